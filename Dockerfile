# The portal's image: web (the default command), worker and scheduler all run from it
# (docs/operations.md). The install steps are the Makefile's (`make install`), so the image
# runs what `make test` tested: tests/test_operations_pack.py checks they stay the same.
#
#   docker build -t claims-portal .
#   docker run --rm --env-file env claims-portal sh deploy/release.sh     # the release step
#   docker run -d --env-file env -p 8000:8000 claims-portal                # web
#   docker run -d --env-file env claims-portal claims-portal worker        # worker
#   docker run -d --env-file env claims-portal claims-portal scheduler     # scheduler
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# --- The NHS front-end assets from npm, pinned by package-lock.json (make assets) -------------
FROM ${NODE_IMAGE} AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# --- The package and its dependencies in a virtual environment (make install) ----------------
FROM ${PYTHON_IMAGE} AS build
WORKDIR /app
RUN python -m venv .venv \
    && .venv/bin/pip install --quiet --upgrade pip
COPY . .
# Editable, as `make install` does: the app finds its migrations and node_modules beside the
# package (claims_portal.config.PROJECT_ROOT), and /app is the same path in the runtime stage.
RUN .venv/bin/pip install --quiet -e . \
    && find /app -name __pycache__ -prune -exec rm -rf {} +

# --- What runs -------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# libmagic: evidence files are checked by their content (make libmagic); Pango and a font:
# practices' statements are drawn as PDF by WeasyPrint.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libmagic1 \
       libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 claims-portal \
    && useradd --system --uid 10001 --gid claims-portal --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin claims-portal
WORKDIR /app
# The code, venv and assets stay root's (read-only to the portal); it writes only instance/
# (the scheduler's state) and uploads/ (the local evidence store: use S3 with more than one
# server).
COPY --from=build /app /app
COPY --from=assets /app/node_modules /app/node_modules
RUN mkdir -p /app/instance /app/uploads \
    && chown claims-portal:claims-portal /app/instance /app/uploads
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CLAIMS_PORTAL_ENV=production \
    PORT=8000
USER claims-portal:claims-portal
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
# Migrations are the release step (deploy/release.sh), never run by the web processes.
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
