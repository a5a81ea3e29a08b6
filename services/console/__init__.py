"""The operator console: why a message did or did not go out, in the browser.

A read model fed from the topics (`handlers.ReadModel` -> pure `projection` -> `store`,
read by `queries`), server-rendered pages (`pages`, `live` for server-sent events, `web`
for the guard and login), and pure rule modules: `timeline` (reasons in words, an intent's
steps and final state), `access` (tokens, sessions, roles, CSRF), `masking`, `customers`,
`numbers`."""
