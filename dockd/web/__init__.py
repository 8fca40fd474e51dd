"""The status pages, their JSON API and /metrics (`dockd.web.app`), served by `dockd run`.

Read-only and metadata only: no route opens a recording.
"""
