# ChatMore server image: JupyterLab with the ChatMore extension (and, with another
# command, the standalone dashboard). Settings come from the environment (DESIGN §9).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 CHATMORE_DATA_DIR=/data
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/chatmore
COPY . .
RUN pip install . && npm cache clean --force

RUN useradd --create-home --uid 1000 chatmore && mkdir -p /data /notebooks \
 && cp -r notebooks/. /notebooks/ && chown -R chatmore /data /notebooks
USER chatmore
WORKDIR /notebooks
VOLUME ["/data"]
EXPOSE 8888 8866

# Migrations run when the server starts; JUPYTER_TOKEN guards Jupyter's own pages.
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--ServerApp.allow_remote_access=True"]
