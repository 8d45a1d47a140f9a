#!/bin/sh
# Prisma's CLI asks its schema engine for a version before it runs `generate`; the real engine is a
# download this environment cannot make. Generation itself does not need it, so answer the question.
echo "schema-engine-cli 0.0.0-offline"
