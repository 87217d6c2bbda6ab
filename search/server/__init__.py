"""`oncosearch serve`: the lab's search server, an HTTP API and a bilingual page over one index.

- `settings`: `ServerSettings` (address, token, CORS origin) and the loopback rule;
- `live`: `LiveIndex`, the current generation followed across cron's switches, leased per request;
- `api`: the JSON endpoints (the CLI's --json keys), `page`: the page's files and the login form;
- `security`, `access`, `errors`: raw URL checks, token, headers; one log line per request;
  library errors as HTTP statuses; `asgi`: the base those middlewares share;
- `app`: `create_app(settings)`, the layers put together.

Read-only by design: there is no endpoint that writes; indexing stays with `index update` in cron.
"""
