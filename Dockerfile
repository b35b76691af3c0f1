FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# the product only: no `demo` extra, so the Bot API emulator stays out
COPY pyproject.toml README.md ./
COPY medlofte_bot ./medlofte_bot
RUN pip install .

COPY bot.py ./
COPY config ./config

RUN useradd --create-home --uid 10001 medlofte && mkdir -p /app/data && chown medlofte /app/data
USER medlofte
VOLUME ["/app/data"]
# webhook mode listens here (the port in deploy/Caddyfile); in a container it must take
# connections from the proxy, not only from itself
ENV MEDLOFTE_LISTEN=0.0.0.0:8080
EXPOSE 8080

CMD ["python", "bot.py"]
