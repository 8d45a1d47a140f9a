-- Issue 16 item 14: per-test results from readers beyond pytest.
ALTER TYPE "TestsSource" ADD VALUE 'JUNIT';
ALTER TYPE "TestsSource" ADD VALUE 'JEST';
ALTER TYPE "TestsSource" ADD VALUE 'GO';
ALTER TYPE "TestsSource" ADD VALUE 'UNITTEST';
ALTER TYPE "TestsSource" ADD VALUE 'CARGO';
