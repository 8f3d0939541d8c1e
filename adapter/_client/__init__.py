"""Client-side code: the binding, instances, restart and the connection. Imports only
:mod:`adapter._shared`."""
