# One image for web, worker and beat.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production VAR_DIR=/data
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 libheif1 curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
# torch is pinned to 2.13.0; on a machine without the local CPU wheel, take PyTorch's CPU index.
RUN pip install --upgrade pip wheel "setuptools<81" \
    && pip install --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt
COPY . .
RUN useradd --create-home --uid 10001 app && mkdir -p /data && chown -R app /data
USER app
RUN DJANGO_SECRET_KEY="$(python -c "import secrets; print(secrets.token_urlsafe(50))")" DJANGO_ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "--chdir", "platform", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
