"""The running ChatMore: settings, database and services, built once per process.

Both hosts build one: the Jupyter server extension (``app.py``) and the standalone
dashboard server (``dashboard.py``). Handlers reach it as
``self.settings["chatmore_runtime"]``.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field

from .config import Settings
from .security.keys import Keyring
from .security.private_files import private_dir
from .security.secret_box import SecretBox
from .security.tokens import TokenService
from .services.api_keys import ApiKeyService
from .services.auth import AuthService
from .services.circuits import CircuitBreakers
from .services.conversations import ConversationService
from .services.experiment_runner import ExperimentRunner
from .services.experiments import ExperimentService
from .services.fanout import FanOut
from .services.gateway import GatewayService
from .services.judge import JudgeService
from .services.leaderboard import LeaderboardService
from .services.models import ModelService
from .services.process_lease import ProcessLease
from .services.provider_client import ProviderClient
from .services.provider_passthrough import PassthroughClient
from .services.quotas import QuotaService
from .services.rate_limits import RateLimiter
from .services.results import ResultService
from .services.scoring import ScoreService
from .services.search import SearchService
from .services.sharing import SharingService
from .services.stats import StatsService
from .services.templates import TemplateService
from .services.transfer import TransferService
from .services.votes import VoteService
from .store import migrate, usage_days
from .store.db import Database

log = logging.getLogger("chatmore")
GC_THRESHOLDS = (20_000, 50, 50)
# httpx logs every request at INFO (the server's own uses of it); ChatMore logs its own
# line per provider call.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    auth: AuthService
    provider: ProviderClient
    models: ModelService
    fanout: FanOut
    conversations: ConversationService
    results: ResultService
    stats: StatsService
    lease: ProcessLease
    experiments: ExperimentService
    api_keys: ApiKeyService
    gateway: GatewayService
    limits: RateLimiter
    search: SearchService
    transfer: TransferService
    sharing: SharingService
    templates: TemplateService
    quotas: QuotaService
    votes: VoteService
    leaderboard: LeaderboardService
    scores: ScoreService
    # The URL this server answers on, as the kernels on this machine reach it; set by the
    # host once it listens.
    local_url: str = ""
    _started: bool = field(default=False, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        """Open the database and bring its schema up to date (blocking; before serving)."""
        private_dir(settings.data_dir)
        db = Database(settings.db_url, threads=settings.db_threads)
        before, after = migrate.upgrade(db.engine)
        if before != after:
            log.info("ChatMore database migrated from %s to %s", before or "empty", after)
        keyring = Keyring.load(settings.data_dir, settings.jwt_private_key_file)
        tokens = TokenService(keyring, settings.jwt_issuer, settings.jwt_audience)
        box = SecretBox.load(settings.data_dir, settings.secret_key)
        provider = ProviderClient(
            connect_timeout=settings.provider_connect_timeout,
            first_token_timeout=settings.provider_first_token_timeout,
            idle_timeout=settings.provider_idle_timeout,
            allow_private=settings.provider_allow_private,
        )
        quotas = QuotaService(db, settings.quota_monthly_tokens, settings.quota_monthly_cost)
        lease = ProcessLease(db, settings.process_lease)
        lease.register_sync()
        # Results stored before usage statistics were folded (an upgrade), or that ended
        # while no server ran: folded once now, not by the first stats requests.
        folded = db.write_sync(usage_days.catch_up)
        if folded > 1000:
            log.info("folded %d results into the usage statistics", folded)
        models = ModelService(db, box, provider)
        limits = RateLimiter(db, settings)
        circuits = CircuitBreakers(db, settings)
        models.circuits = circuits
        fanout = FanOut(
            db,
            models,
            provider,
            model_concurrency=settings.model_concurrency,
            runner=lease.id,
        )
        fanout.circuits = circuits
        conversations = ConversationService(
            db, fanout, log_content=settings.log_content, limits=limits, quotas=quotas
        )
        return cls(
            settings=settings,
            db=db,
            auth=AuthService(db, tokens, settings),
            provider=provider,
            models=models,
            fanout=fanout,
            conversations=conversations,
            results=ResultService(db),
            stats=StatsService(db),
            lease=lease,
            experiments=ExperimentService(
                db,
                ExperimentRunner(db, fanout),
                max_concurrency=settings.experiment_max_concurrency,
                quotas=quotas,
            ),
            api_keys=ApiKeyService(db),
            gateway=GatewayService(
                db,
                models,
                # The same upstream session (one pool per server); the provider
                # client owns it and closes it at stop.
                PassthroughClient(
                    connect_timeout=settings.provider_connect_timeout,
                    first_token_timeout=settings.provider_first_token_timeout,
                    idle_timeout=settings.provider_idle_timeout,
                    allow_private=settings.provider_allow_private,
                    http=provider.http,
                ),
                limits,
                circuits,
                runner=lease.id,
                quotas=quotas,
            ),
            limits=limits,
            search=SearchService(db),
            transfer=TransferService(db),
            sharing=SharingService(db),
            templates=TemplateService(db),
            quotas=quotas,
            votes=VoteService(db),
            leaderboard=LeaderboardService(db),
            scores=ScoreService(db, JudgeService(db, conversations, fanout)),
        )

    async def start(self, local_url: str) -> None:
        """Start background work once the event loop runs."""
        self.local_url = local_url
        if self.settings.demo:
            from .handlers import DEMO_PREFIX

            await self.models.ensure_demo_models(f"{local_url}{DEMO_PREFIX.lstrip('/')}/v1")
        self.fanout.start()
        self.lease.start()
        self.gateway.start()
        # Everything loaded so far lives as long as the server. Frozen, it is no longer
        # rescanned by every full collection: those passes otherwise stall big reads (a
        # 10,000-row results page: 48 ms on average instead of 63, worst 61 ms, not 450).
        gc.freeze()
        # Streaming makes many short-lived containers. At the default thresholds (700, 10,
        # 10) a full collection ran every few seconds under load (800 streams) and paused
        # every stream for 100-155 ms; at these, full collections are rare and the added
        # gap's p99 fell from ~335 ms to 120-195 ms (bench/load.py, two runs each).
        gc.set_threshold(*GC_THRESHOLDS)
        self._started = True

    async def stop(self) -> None:
        """Stop background work and close the database."""
        if self._started:
            self._started = False
            await self.experiments.runner.stop()
            await self.fanout.stop()
            await self.gateway.stop()
        await self.lease.stop()
        await self.provider.aclose()
        self.auth.close()
        self.db.close()
