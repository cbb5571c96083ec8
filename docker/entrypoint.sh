#!/bin/sh
# Entry point of the mlsite image. The first argument says what this container is:
#   web (default)      wait for the database, then gunicorn with gunicorn.conf.py
#   migrate            wait for the database, apply migrations, then train the shipped models if the catalogue lacks
#                      them (compose runs it once, as its own service)
#   train [args]       train model versions into MODEL_DIR (manage.py train; needs no database)
#   manage <args>      wait for the database, then any manage.py command (createsuperuser, models, shell, ...)
#   anything else      run as given, e.g. `python manage.py check --deploy` or `sh`
# Every branch ends in `exec`, so the process that Docker signals (SIGTERM on stop) is gunicorn or the command
# itself, not this shell.
set -eu

cd "$(dirname "$0")/.."

wait_for_db() {
    if [ "${WAIT_FOR_DB:-1}" != "0" ]; then
        python docker/wait_for_db.py
    fi
}

command="${1:-web}"
if [ "$#" -gt 0 ]; then shift; fi

case "$command" in
    web)
        # gunicorn parses WEB_CONCURRENCY itself, before reading its config file, and fails on an empty value
        # (`WEB_CONCURRENCY=` in .env); unset means "workers from the cores".
        if [ -z "${WEB_CONCURRENCY:-}" ]; then unset WEB_CONCURRENCY; fi
        wait_for_db
        exec gunicorn --config gunicorn.conf.py "$@"
        ;;
    migrate)
        wait_for_db
        python manage.py migrate --noinput "$@"
        exec python manage.py train --missing
        ;;
    train)
        exec python manage.py train "$@"
        ;;
    manage)
        wait_for_db
        exec python manage.py "$@"
        ;;
    *)
        exec "$command" "$@"
        ;;
esac
