# The tempflare worker image used by docker-compose.yml (service `worker`).
#
#   docker compose up -d --build worker
#
# Connection settings come from the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
# TEMPORAL_TASK_QUEUE; so do the URLs of the services the workflows call (API_URL,
# EMAIL_API_URL...: see each module's make_env in workflows/). The worker needs nothing else: no
# tests, no demo stand-ins (tests/core/test_worker_image.py builds it from exactly these files).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Only what the package needs, named explicitly so a local .venv, .git or .temporal never ends
# up in the image. Add new top-level packages here and to pyproject.toml together.
COPY pyproject.toml README.md ./
COPY adapter ./adapter
COPY workflows ./workflows
COPY activities ./activities
RUN pip install '.[bindings,ai,postgres,redis,s3]'

COPY worker.py ./

RUN useradd --create-home --uid 10001 tempflare
USER tempflare

CMD ["python", "worker.py"]
