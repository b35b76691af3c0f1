FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY medlofte_bot ./medlofte_bot
RUN pip install .

COPY bot.py ./
COPY config ./config

RUN useradd --create-home --uid 10001 medlofte && mkdir -p /app/data && chown medlofte /app/data
USER medlofte
VOLUME ["/app/data"]

CMD ["python", "bot.py"]
