"""Jupyter configuration of the ChatMore quick start (``make run``).

``make run`` starts ``chatmore --config jupyter_config.py lab``. Every ChatMore setting is
a trait of ``ChatMoreApp``; each is listed below with its environment name and default.
A value set here wins over the environment.
"""

from pathlib import Path

c = get_config()  # noqa: F821  (provided by traitlets when Jupyter loads this file)

# -- the quick start --------------------------------------------------------------------
# The built-in demo provider and its three demo models, so that nothing needs a key.
c.ChatMoreApp.demo = True

# Offline by design: JupyterLab never phones home for news, updates or extensions.
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.extension_manager = "readonly"
# ... and never asks about it: the lab's settings defaults (jupyter-config/lab-settings/
# overrides.json) turn news and update checks off, so no notification pops up.
c.LabApp.app_settings_dir = str(Path(__file__).parent / "jupyter-config" / "lab-settings")
# `chatmore lab` opens notebooks/workbench.ipynb, not the Launcher (server_ext/quickstart.py).

# -- every ChatMore setting (uncomment to change) --------------------------------------

# -- begin settings --
# Folder for the SQLite database and generated keys; empty means <Jupyter data
# dir>/chatmore. Environment: CHATMORE_DATA_DIR.
# c.ChatMoreApp.data_dir = ''

# Database: a SQLAlchemy URL or a MySQL DSN (user:pass@tcp(host:3306)/chat); empty means
# SQLite in the data directory. Environment: CHATMORE_DB_URL, MYSQL_DSN.
# c.ChatMoreApp.db_url = ''

# Threads (and pooled connections) that run database work off the event loop.
# Environment: CHATMORE_DB_THREADS.
# c.ChatMoreApp.db_threads = 8

# Access token lifetime. Environment: JWT_ACCESS_TTL.
# c.ChatMoreApp.jwt_access_ttl = '15m'

# Refresh token lifetime. Environment: JWT_REFRESH_TTL.
# c.ChatMoreApp.jwt_refresh_ttl = '336h'

# Stream ticket lifetime. Environment: JWT_STREAM_TTL.
# c.ChatMoreApp.jwt_stream_ttl = '60s'

# The iss claim of tokens. Environment: JWT_ISSUER.
# c.ChatMoreApp.jwt_issuer = 'chatmore'

# The aud claim. Environment: JWT_AUDIENCE.
# c.ChatMoreApp.jwt_audience = 'chatmore'

# PEM file of the RSA signing key; empty means a key generated into the data directory
# on first start. Environment: JWT_PRIVATE_KEY_FILE.
# c.ChatMoreApp.jwt_private_key_file = ''

# Keys that encrypt provider API keys, as comma-separated kid:base64 pairs (32 bytes
# each), the first one active; empty means a key generated into the data directory on
# first start. Environment: CHATMORE_SECRET_KEY.
# c.ChatMoreApp.secret_key = ''

# Whether POST auth/register creates accounts. Environment: AUTH_ALLOW_SELF_REGISTER.
# c.ChatMoreApp.allow_self_register = False

# Failed logins in a row that lock an account. Environment: AUTH_LOCKOUT_THRESHOLD.
# c.ChatMoreApp.lockout_threshold = 5

# How long a locked account stays locked. Environment: AUTH_LOCKOUT_DURATION.
# c.ChatMoreApp.lockout_duration = '15m'

# How long a just-rotated refresh token still gets its live successor (two tabs
# refreshing at once) instead of revoking its family as a reuse; 0 turns it off.
# Environment: AUTH_REFRESH_GRACE.
# c.ChatMoreApp.refresh_grace = '5s'

# bcrypt work factor. Passwords stored at another cost are rehashed at the next login;
# until then every login takes the time of the highest cost stored. Environment:
# BCRYPT_COST.
# c.ChatMoreApp.bcrypt_cost = 12

# Origins (comma-separated) allowed to call the API from a browser. Environment:
# CORS_ALLOWED_ORIGINS.
# c.ChatMoreApp.cors_allowed_origins = ''

# Secure flag of the refresh cookie: auto (when the request is https), true or false.
# Environment: COOKIE_SECURE.
# c.ChatMoreApp.cookie_secure = 'auto'

# SameSite of the refresh cookie: Lax, Strict or None. Environment: COOKIE_SAMESITE.
# c.ChatMoreApp.cookie_samesite = 'Lax'

# Whether provider base URLs may resolve to loopback or private addresses (link-local
# and cloud metadata addresses are always refused). Environment:
# CHATMORE_PROVIDER_ALLOW_PRIVATE.
# c.ChatMoreApp.provider_allow_private = True

# Time allowed to connect to a provider. Environment: CHATMORE_PROVIDER_CONNECT_TIMEOUT.
# c.ChatMoreApp.provider_connect_timeout = '10s'

# Time allowed from the request to the first streamed token. Environment:
# CHATMORE_PROVIDER_FIRST_TOKEN_TIMEOUT.
# c.ChatMoreApp.provider_first_token_timeout = '60s'

# Longest silence allowed between two chunks of a stream. Environment:
# CHATMORE_PROVIDER_IDLE_TIMEOUT.
# c.ChatMoreApp.provider_idle_timeout = '30s'

# Requests one model may have in flight at once; more wait their turn. Environment:
# CHATMORE_MODEL_CONCURRENCY.
# c.ChatMoreApp.model_concurrency = 16

# Highest concurrency an experiment may ask for (calls in flight at once; the per-model
# limit applies too). Environment: CHATMORE_EXPERIMENT_MAX_CONCURRENCY.
# c.ChatMoreApp.experiment_max_concurrency = 256

# Requests (board turns and gateway calls) a user may start in any 60 seconds; 0 means
# no limit. Admins override it per user. Environment: CHATMORE_RATE_LIMIT_RPM.
# c.ChatMoreApp.rate_limit_requests_per_minute = 600

# Tokens (prompt and completion, as providers count them) a user's calls may use in any
# 60 seconds before new ones wait; 0 means no limit. Environment:
# CHATMORE_RATE_LIMIT_TPM.
# c.ChatMoreApp.rate_limit_tokens_per_minute = 2000000

# Replies a user may have streaming at once (a board turn counts one per window); 0
# means no limit. Environment: CHATMORE_RATE_LIMIT_STREAMS.
# c.ChatMoreApp.rate_limit_concurrent_streams = 64

# Gateway calls one personal API key may start in any 60 seconds (within its owner's
# limits); 0 means only the owner's limit applies. Environment:
# CHATMORE_KEY_RATE_LIMIT_RPM.
# c.ChatMoreApp.key_rate_limit_requests_per_minute = 0

# Tokens one API key's calls may use in any 60 seconds; 0 means only the owner's limit
# applies. Environment: CHATMORE_KEY_RATE_LIMIT_TPM.
# c.ChatMoreApp.key_rate_limit_tokens_per_minute = 0

# Calls one API key may have streaming at once; 0 means only the owner's limit applies.
# Environment: CHATMORE_KEY_RATE_LIMIT_STREAMS.
# c.ChatMoreApp.key_rate_limit_concurrent_streams = 0

# Consecutive connect errors, timeouts or 5xx answers of a model (within the window)
# that open its circuit: calls then fail at once with PROVIDER_CIRCUIT_OPEN; 0 turns
# circuit breaking off. Environment: CHATMORE_CIRCUIT_FAILURES.
# c.ChatMoreApp.circuit_failures = 5

# How close together a model's failures must come to count as consecutive. Environment:
# CHATMORE_CIRCUIT_WINDOW.
# c.ChatMoreApp.circuit_window = '60s'

# How long an open circuit refuses calls before one probe call decides whether it
# closes. Environment: CHATMORE_CIRCUIT_COOLDOWN.
# c.ChatMoreApp.circuit_cooldown = '30s'

# Longest silence on a turn's event stream before a keep-alive comment line.
# Environment: CHATMORE_SSE_HEARTBEAT.
# c.ChatMoreApp.sse_heartbeat = '10s'

# How long a server process's claim on the replies it runs lasts without a heartbeat
# (renewed every quarter of it); after that, any process sharing the database marks them
# INTERRUPTED. Environment: CHATMORE_PROCESS_LEASE.
# c.ChatMoreApp.process_lease = '20s'

# Dashboard pages (each with its kernel, ~130 MB) one signed-in visitor may have open at
# once; one more gets a "busy" page. Environment: CHATMORE_DASHBOARD_KERNELS_PER_USER.
# c.ChatMoreApp.dashboard_kernels_per_user = 3

# Dashboard kernels the server runs at once, all visitors together; past it, visitors
# get a "busy" page. Environment: CHATMORE_DASHBOARD_KERNELS_TOTAL.
# c.ChatMoreApp.dashboard_kernels_total = 20

# A dashboard kernel whose page has not connected to it within this time is shut down (a
# page fetched by a script, or closed while loading). Environment:
# CHATMORE_DASHBOARD_CONNECT_TIMEOUT.
# c.ChatMoreApp.dashboard_connect_timeout = '60s'

# A bearer token with which a Prometheus scraper reads chatmore/metrics (admins can
# always read them); empty means admins only. Environment: CHATMORE_METRICS_TOKEN.
# c.ChatMoreApp.metrics_token = ''

# Each user's default budget of tokens per calendar month (UTC); a turn that would start
# past it is refused with QUOTA_EXCEEDED. 0: no limit. Admins set a user's own budget
# with PUT chatmore/api/users/{id}/quota. Environment: CHATMORE_QUOTA_MONTHLY_TOKENS.
# c.ChatMoreApp.quota_monthly_tokens = 0

# Each user's default budget of cost per calendar month (UTC), in the currency of the
# models' prices; 0: no limit. Environment: CHATMORE_QUOTA_MONTHLY_COST.
# c.ChatMoreApp.quota_monthly_cost = 0.0

# Debugging only: include prompts and replies in the logs. Environment:
# CHATMORE_LOG_CONTENT.
# c.ChatMoreApp.log_content = False
# -- end settings --
