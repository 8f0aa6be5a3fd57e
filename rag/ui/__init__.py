"""The web UI (`rag ui`): a Gradio chat over the index, with cited sources and uploads.

Modules:
- `render`: the HTML the UI shows (chat messages, sources panel, index panel). Every piece of
  text from a document or a question goes through `html.escape`; no Gradio import.
- `uploads`: checking uploaded files (type allow-list, size, binary, empty) and adding them.
- `leftovers`: files in the uploads folder the index does not hold (an upload that was killed).
- `errors`: the one line a failed action shows, as the CLI would print it.
- `service`: one shared, lock-guarded view of the index that the UI and the API ask through.
- `app`: `build_app(index_dir) -> gr.Blocks` and `launch_app(app, ...)`; imports Gradio.

Nothing here imports Gradio at package import time, so `rag --help` stays fast.
"""
