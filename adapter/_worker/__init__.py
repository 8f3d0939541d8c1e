"""Worker-side code: the activity that runs step callbacks and :func:`create_worker`. Imports
:mod:`adapter._shared` and :mod:`adapter._workflow`."""
