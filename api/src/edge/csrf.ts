// CSRF: a page on another site can send a form-urlencoded, multipart or text/plain POST without a
// preflight, and the browser attaches this platform's cookies. Yoga's CSRF prevention refuses such
// requests (and GETs) unless they carry a header only a preflighted request can set; JSON POSTs
// (notebooks, scripts) are preflighted by their content type already and need nothing.
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';

/** The header the web app and scripts send with multipart uploads; any value. */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

/** Apollo Server's name for the same guard, so clients written for Apollo work unchanged. */
export const APOLLO_CSRF_HEADER = 'graphql-require-preflight';

export const csrfPrevention = () => useCSRFPrevention({ requestHeaders: [CSRF_HEADER, APOLLO_CSRF_HEADER] });
