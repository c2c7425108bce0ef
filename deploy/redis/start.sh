#!/bin/sh
# Starts Redis with the password from the redis_password secret, without it appearing in
# the compose file, the environment or the process arguments: it goes to a config
# fragment on a tmpfs readable only by the redis user, then the image's own entrypoint
# drops to that user.
set -eu
umask 077
password="$(head -n 1 /run/secrets/redis_password | tr -d '\r\n')"
[ -n "$password" ] || { echo "redis_password secret is empty" >&2; exit 1; }
printf 'requirepass "%s"\n' "$password" > /tmp/requirepass.conf
chown redis:redis /tmp/requirepass.conf
exec docker-entrypoint.sh redis-server /usr/local/etc/redis/redis.conf --include /tmp/requirepass.conf
