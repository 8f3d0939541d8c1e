"""Stand-ins for external services, as real HTTP servers on 127.0.0.1, for the main job's demo
runs and the example tests. A production worker starts none of them (``worker.py`` builds no demo
env).

* :mod:`.http`: :class:`~activities._demo.http.HTTPService`, the one HTTP stand-in server
  (programmable routes, a request log, fault injection) that everything below and the tests use;
* :mod:`.services`: stateful fakes of the services the shared-env examples call (payment gateway,
  API, external API, job processor, notifier);
* :mod:`.demo_server`: one server with canned answers for the other examples' demo runs.
"""
