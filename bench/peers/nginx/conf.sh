#!/usr/bin/env bash
# Prints an nginx configuration for the HTTP benchmarks (bench/run_http.sh,
# bench/run_http_client.sh): one worker process (and its master), in the foreground,
# no access log, listening on 127.0.0.1:PORT, with its pid file and temporary folders
# inside PREFIX (a build folder), so that it runs without root and touches nothing of
# the system's nginx. Run it as `nginx -p PREFIX -c PREFIX/nginx.conf -e PREFIX/error.log`.
#
# Usage: conf.sh hello PORT PREFIX          GET / answers 200 "Hello, World!" (text/plain)
#        conf.sh static PORT PREFIX ROOT    static files from ROOT (sendfile), and
#                                           /nginx_status (stub_status: the request and
#                                           connection counters the client benchmark checks)
set -euo pipefail
mode=$1 port=$2 prefix=$3 root=${4:-}

cat <<CONF
worker_processes 1;
daemon off;
master_process on;
pid $prefix/nginx.pid;
error_log $prefix/error.log warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  client_body_temp_path $prefix/client_body;
  proxy_temp_path $prefix/proxy;
  fastcgi_temp_path $prefix/fastcgi;
  uwsgi_temp_path $prefix/uwsgi;
  scgi_temp_path $prefix/scgi;
  # No limit on the requests of one keep-alive connection (nginx closes it after 1000
  # by default), as none of the other servers has one.
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:$port backlog=1024;
CONF
case $mode in
  hello)
    cat <<'CONF'
    location = / {
      default_type text/plain;
      return 200 "Hello, World!";
    }
CONF
    ;;
  static)
    cat <<CONF
    root $root;
    sendfile on;
    location = /nginx_status {
      stub_status;
    }
CONF
    ;;
  *)
    echo "conf.sh: unknown mode $mode (hello or static)" >&2
    exit 2
    ;;
esac
cat <<'CONF'
  }
}
CONF
