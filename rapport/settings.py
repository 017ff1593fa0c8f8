"""Rapport settings. Every value that varies between installs comes from the environment."""

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from rapport.env import Env

env = Env()
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("RAPPORT_VAR_DIR", str(BASE_DIR / "var")))

RAPPORT_ENV = env.choice("RAPPORT_ENV", ("development", "production", "test"), "development")
PRODUCTION = RAPPORT_ENV == "production"
DEBUG = env.bool("DEBUG", not PRODUCTION and RAPPORT_ENV != "test")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when RAPPORT_ENV=production.")

_DEV_SECRET = "rapport-development-only-secret-key-never-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY") if PRODUCTION else env.str("SECRET_KEY", _DEV_SECRET)
# Production names its hosts; without them Django would answer every request with 400.
ALLOWED_HOSTS = (
    env.list("ALLOWED_HOSTS")
    if PRODUCTION
    else env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS to the host names Rapport answers on.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])
# The port `make run` serves on; links Rapport generates use it unless SITE_URL is set.
PORT = env.int("PORT", 8000)
SITE_URL = env.str("SITE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks_db",
    # Serves the API docs viewer's own scripts and styles from Rapport (no CDN).
    "ninja",
    "rapport.core",
    "rapport.users",
    "rapport.audit",
    "rapport.accounts",
    "rapport.inbox",
    "rapport.mapping",
    "rapport.requests",
    "rapport.outbox",
    "rapport.integrations",
    "rapport.integrations.slack",
    "rapport.integrations.email",
    "rapport.integrations.webchat",
    "rapport.integrations.api",
    "rapport.metrics",
    "rapport.directory",
    "rapport.tasks",
    "rapport.onboarding",
    "rapport.imports",
    "rapport.ops",
    "rapport.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "rapport.core.limits.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "rapport.users.middleware.LoginThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Innermost, so it sees a view's database outage before anything else answers 500.
    "rapport.ops.middleware.DatabaseOutageMiddleware",
]

ROOT_URLCONF = "rapport.urls"
WSGI_APPLICATION = "rapport.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "rapport" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rapport.core.context_processors.settings_menu",
            ],
        },
    },
]

# SQLite in WAL mode is the embedded default; DATABASE_URL selects PostgreSQL (or another
# SQLite file, which gets the same settings as the embedded one).
SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock at BEGIN, so a transaction never starts as a reader
    # and fails to upgrade: concurrent writers queue on the busy timeout instead.
    "transaction_mode": "IMMEDIATE",
    "timeout": env.int("SQLITE_BUSY_TIMEOUT", 20),
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA cache_size=-64000;"
        "PRAGMA mmap_size=268435456;"
        "PRAGMA temp_store=MEMORY;"
        "PRAGMA journal_size_limit=67108864;"
    ),
}
_database_url = env.str("DATABASE_URL", "")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "rapport.core.sqlite",
            "NAME": str(VAR_DIR / "rapport.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] in ("django.db.backends.sqlite3", "rapport.core.sqlite"):
    # Writers queue on Rapport's write lock (rapport/core/sqlite) rather than poll.
    DATABASES["default"]["ENGINE"] = "rapport.core.sqlite"
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
    # Kept between requests: opening a connection (its pragmas, the schema) cost more than
    # a ticket's queries. The health check reconnects when the file was moved or replaced.
    DATABASES["default"].setdefault("CONN_MAX_AGE", 600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
# Email and password, throttled per client IP (rapport.users.services_throttle).
AUTHENTICATION_BACKENDS = ["rapport.users.backends.ThrottledModelBackend"]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Days an invitation link to join the workspace works (Settings > Team).
INVITATION_DAYS = env.int("INVITATION_DAYS", 7)
if not 1 <= INVITATION_DAYS <= 90:
    raise ImproperlyConfigured(f"INVITATION_DAYS={INVITATION_DAYS} must be from 1 to 90.")

# Onboarding: days an account executive's handoff link works, and days after which an AE
# who has not submitted the handoff is reminded (then every as many days, three times).
# The most rows one CSV import may hold.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", 100_000)
if not 1 <= IMPORT_MAX_ROWS <= 1_000_000:
    raise ImproperlyConfigured(f"IMPORT_MAX_ROWS={IMPORT_MAX_ROWS} must be from 1 to 1,000,000.")
HANDOFF_LINK_DAYS = env.int("HANDOFF_LINK_DAYS", 30)
if not 1 <= HANDOFF_LINK_DAYS <= 365:
    raise ImproperlyConfigured(f"HANDOFF_LINK_DAYS={HANDOFF_LINK_DAYS} must be from 1 to 365.")
HANDOFF_REMINDER_DAYS = env.int("HANDOFF_REMINDER_DAYS", 3)
if not 1 <= HANDOFF_REMINDER_DAYS <= 60:
    raise ImproperlyConfigured(
        f"HANDOFF_REMINDER_DAYS={HANDOFF_REMINDER_DAYS} must be from 1 to 60."
    )

# Optional: draft handoff answers with a language model behind an OpenAI-compatible chat
# completions API (base URL such as http://llm.internal/v1, and its key). Without a URL
# the offline drafter alone drafts them. The AE's email waits for the model at most
# DRAFTING_LLM_WAIT_SECONDS, then goes with the offline answers.
DRAFTING_LLM_URL = env.str("DRAFTING_LLM_URL", "").rstrip("/")
DRAFTING_LLM_KEY = env.str("DRAFTING_LLM_KEY", "")
DRAFTING_LLM_MODEL = env.str("DRAFTING_LLM_MODEL", "default")
DRAFTING_LLM_WAIT_SECONDS = env.int("DRAFTING_LLM_WAIT_SECONDS", 60)
if not 5 <= DRAFTING_LLM_WAIT_SECONDS <= 900:
    raise ImproperlyConfigured(
        f"DRAFTING_LLM_WAIT_SECONDS={DRAFTING_LLM_WAIT_SECONDS} must be from 5 to 900."
    )

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic's target; whitenoise warns if absent
STATICFILES_DIRS = [BASE_DIR / "rapport" / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
_s3_bucket = env.str("S3_BUCKET", "")
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": _s3_bucket,
                "endpoint_url": env.str("S3_ENDPOINT_URL", "") or None,
                "default_acl": "private",
                "querystring_auth": True,
            },
        }
        if _s3_bucket
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded logos: small raster images only (SVG can carry script).
LOGO_MAX_BYTES = env.int("LOGO_MAX_BYTES", 1024 * 1024)
# Request bodies (rapport.core.limits): a body over its address's limit answers 413
# before anything reads it. The first pattern that matches the path sets the limit, in
# bytes or as the name of the setting that holds it; any other path takes
# REQUEST_BODY_MAX_BYTES (the JSON API, forms, Slack, web chat).
_MB = 1024 * 1024
REQUEST_BODY_MAX_BYTES = 5 * _MB
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", 50 * _MB)
REQUEST_BODY_LIMITS: list[tuple[str, int | str]] = [
    (r"^/api/v1/inbound/email$", 25 * _MB),  # raw RFC 822, as the SMTP listener takes
    (r"^/api/v1/imports$", "UPLOAD_MAX_BYTES"),
    (r"^/imports/$", "UPLOAD_MAX_BYTES"),
    (r"^/api/v1/accounts/\d+/(logo|documents)$", "UPLOAD_MAX_BYTES"),
    (r"^/accounts/\d+/logo/edit/$", "UPLOAD_MAX_BYTES"),
]

TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# How stale the worker heartbeat may be before /healthz reports the worker as down.
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", 180)
# /healthz lists inbound events and outside calls waiting longer than this (never a 503).
HEALTH_STUCK_AFTER_SECONDS = env.int("HEALTH_STUCK_AFTER_SECONDS", 300)

# Security. Production settings pass `manage.py check --deploy`.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Channels ---------------------------------------------------------------------------
# Base URLs of outside services come from settings so tests and staging can point them
# at a fake.
SLACK_API_URL = env.str("SLACK_API_URL", "https://slack.com/api/")
SLACK_SIGNING_SECRET = env.str("SLACK_SIGNING_SECRET", "")
SLACK_BOT_TOKEN = env.str("SLACK_BOT_TOKEN", "")
SLACK_APP_TOKEN = env.str("SLACK_APP_TOKEN", "")  # Socket Mode only
SMTP_HOST = env.str("SMTP_HOST", "127.0.0.1")
SMTP_PORT = env.int("SMTP_PORT", 2525)
# Outgoing email (ticketing tool, CSAT surveys). Without EMAIL_HOST, development prints
# emails to the console; production needs a relay.
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "rapport@localhost")
# The address customers see team replies come from, and answer to.
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", f"support@{urlsplit(SITE_URL).hostname or 'localhost'}")
_email_host = env.str("EMAIL_HOST", "")
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host or "localhost",
                "port": env.int("EMAIL_PORT", 587),
                "username": env.str("EMAIL_HOST_USER", ""),
                "password": env.str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env.bool("EMAIL_USE_TLS", True),
                "timeout": 10,
            },
        }
        if _email_host or PRODUCTION
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
}
# The shared cache holds rate-limit counters; use Redis when several processes serve.
_redis_url = env.str("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url}
        if _redis_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Web chat (rapport.integrations.webchat) ------------------------------------------
# Fixed one-minute windows, counted in the default cache (set REDIS_URL when several
# processes serve). 0 turns a limit off.
WEBCHAT_VISITOR_MESSAGES_PER_MINUTE = env.int("WEBCHAT_VISITOR_MESSAGES_PER_MINUTE", 20)
# Every chat API call counts (an open widget polls about 15 times a minute), so leave
# room for a few visitors behind one office network.
WEBCHAT_IP_REQUESTS_PER_MINUTE = env.int("WEBCHAT_IP_REQUESTS_PER_MINUTE", 120)
# The web chat's name for TRUST_X_FORWARDED_FOR (below), still read for older installs.
WEBCHAT_TRUST_X_FORWARDED_FOR = env.bool("WEBCHAT_TRUST_X_FORWARDED_FOR", False)
# --- end of web chat ----------------------------------------------------------------------

# --- Client IPs and sign-in throttling (rapport.users.services_throttle) ------------------
# Take the client IP from the first X-Forwarded-For hop; only behind a proxy that sets it.
# Sign-in throttling and the web chat's limits count by that IP.
TRUST_X_FORWARDED_FOR = env.bool("TRUST_X_FORWARDED_FOR", WEBCHAT_TRUST_X_FORWARDED_FOR)
WEBCHAT_TRUST_X_FORWARDED_FOR = TRUST_X_FORWARDED_FOR
