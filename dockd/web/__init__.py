"""The status pages, their JSON API and /metrics, served by `dockd run`: `server` (uvicorn),
`access` (login and the request guard), `routes` (pages and API over the status service),
`metrics` (Prometheus), `templates/` (THE status HTML).

Read-only and metadata only: no route opens a recording.
"""
