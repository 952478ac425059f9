-- ChatMore schema for MySQL 8 / MariaDB, rendered from server_ext/store/tables.py.
-- Regenerate with: chatmore db ddl > schema/mysql.sql
-- Alembic revision: 0011

CREATE TABLE models (
	id BIGINT NOT NULL AUTO_INCREMENT,
	name VARCHAR(200) NOT NULL,
	provider_name VARCHAR(100) NOT NULL DEFAULT '',
	base_url VARCHAR(1000) NOT NULL,
	upstream_model VARCHAR(200) NOT NULL,
	api_key_enc TEXT,
	api_key_hint VARCHAR(8),
	default_params JSON NOT NULL,
	enabled BOOL NOT NULL DEFAULT '1',
	notes TEXT,
	input_price DOUBLE,
	output_price DOUBLE,
	price_currency VARCHAR(3),
	created_at DATETIME(6) NOT NULL,
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_models PRIMARY KEY (id),
	CONSTRAINT uq_models_name UNIQUE (name)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE server_processes (
	id VARCHAR(64) NOT NULL,
	host VARCHAR(255) NOT NULL,
	pid INTEGER NOT NULL,
	started_at DATETIME(6) NOT NULL,
	heartbeat_at DATETIME(6) NOT NULL,
	lease_until DATETIME(6) NOT NULL,
	CONSTRAINT pk_server_processes PRIMARY KEY (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_server_processes_lease_until ON server_processes (lease_until);

CREATE TABLE usage_fold (
	id INTEGER NOT NULL,
	folded_through BIGINT NOT NULL,
	CONSTRAINT pk_usage_fold PRIMARY KEY (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE usage_pending (
	result_id BIGINT NOT NULL,
	CONSTRAINT pk_usage_pending PRIMARY KEY (result_id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE used_tickets (
	jti VARCHAR(64) NOT NULL,
	expires_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_used_tickets PRIMARY KEY (jti)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_used_tickets_expires_at ON used_tickets (expires_at);

CREATE TABLE users (
	id BIGINT NOT NULL AUTO_INCREMENT,
	email VARCHAR(254) NOT NULL,
	display_name VARCHAR(200) NOT NULL DEFAULT '',
	password_hash VARCHAR(100) NOT NULL,
	`role` VARCHAR(16) NOT NULL DEFAULT 'user',
	failed_attempts INTEGER NOT NULL DEFAULT '0',
	locked_until DATETIME(6),
	is_active BOOL NOT NULL DEFAULT '1',
	last_login_at DATETIME(6),
	tokens_valid_after DATETIME(6),
	created_at DATETIME(6) NOT NULL,
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_users PRIMARY KEY (id),
	CONSTRAINT uq_users_email UNIQUE (email)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE api_keys (
	id BIGINT NOT NULL AUTO_INCREMENT,
	user_id BIGINT NOT NULL,
	name VARCHAR(200) NOT NULL,
	key_hash VARCHAR(64) NOT NULL,
	last4 VARCHAR(8) NOT NULL,
	created_at DATETIME(6) NOT NULL,
	expires_at DATETIME(6),
	revoked_at DATETIME(6),
	last_used_at DATETIME(6),
	CONSTRAINT pk_api_keys PRIMARY KEY (id),
	CONSTRAINT fk_api_keys_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT uq_api_keys_key_hash UNIQUE (key_hash)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_api_keys_user_id_id ON api_keys (user_id, id);

CREATE TABLE conversations (
	id BIGINT NOT NULL AUTO_INCREMENT,
	user_id BIGINT NOT NULL,
	title VARCHAR(300) NOT NULL DEFAULT '',
	tags JSON NOT NULL,
	metadata JSON NOT NULL,
	system_prompt MEDIUMTEXT,
	archived_at DATETIME(6),
	last_message_at DATETIME(6) NOT NULL,
	created_at DATETIME(6) NOT NULL,
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_conversations PRIMARY KEY (id),
	CONSTRAINT fk_conversations_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_conversations_user_id_last_message_at_id ON conversations (user_id, last_message_at, id);

CREATE TABLE model_circuits (
	model_id BIGINT NOT NULL,
	state VARCHAR(16) NOT NULL,
	failures INTEGER NOT NULL DEFAULT '0',
	first_failure_at DATETIME(6),
	opened_at DATETIME(6),
	probe_until DATETIME(6),
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_model_circuits PRIMARY KEY (model_id),
	CONSTRAINT fk_model_circuits_model_id_models FOREIGN KEY(model_id) REFERENCES models (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE prompt_templates (
	id BIGINT NOT NULL AUTO_INCREMENT,
	user_id BIGINT NOT NULL,
	name VARCHAR(200) NOT NULL,
	body MEDIUMTEXT NOT NULL,
	shared BOOL NOT NULL DEFAULT '0',
	created_at DATETIME(6) NOT NULL,
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_prompt_templates PRIMARY KEY (id),
	CONSTRAINT uq_prompt_templates_user_id_name UNIQUE (user_id, name),
	CONSTRAINT fk_prompt_templates_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_prompt_templates_shared ON prompt_templates (shared);

CREATE TABLE rate_limit_overrides (
	user_id BIGINT NOT NULL,
	requests_per_minute INTEGER,
	tokens_per_minute INTEGER,
	concurrent_streams INTEGER,
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_rate_limit_overrides PRIMARY KEY (user_id),
	CONSTRAINT fk_rate_limit_overrides_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE refresh_tokens (
	jti VARCHAR(64) NOT NULL,
	user_id BIGINT NOT NULL,
	family_id VARCHAR(64) NOT NULL,
	issued_at DATETIME(6) NOT NULL,
	expires_at DATETIME(6) NOT NULL,
	revoked_at DATETIME(6),
	replaced_by VARCHAR(64),
	user_agent VARCHAR(300),
	ip VARCHAR(64),
	CONSTRAINT pk_refresh_tokens PRIMARY KEY (jti),
	CONSTRAINT fk_refresh_tokens_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_refresh_tokens_family_id ON refresh_tokens (family_id);

CREATE INDEX ix_refresh_tokens_user_id_revoked_at ON refresh_tokens (user_id, revoked_at);

CREATE TABLE usage_days (
	user_id BIGINT NOT NULL,
	model_id BIGINT NOT NULL,
	day DATE NOT NULL,
	source VARCHAR(16) NOT NULL,
	succeeded INTEGER NOT NULL DEFAULT '0',
	failed INTEGER NOT NULL DEFAULT '0',
	cancelled INTEGER NOT NULL DEFAULT '0',
	prompt_tokens BIGINT,
	completion_tokens BIGINT,
	total_tokens BIGINT,
	rate_tokens BIGINT,
	rate_ms BIGINT,
	cost DOUBLE,
	latency_values LONGBLOB NOT NULL,
	ttft_values LONGBLOB NOT NULL,
	CONSTRAINT pk_usage_days PRIMARY KEY (user_id, model_id, day, source),
	CONSTRAINT fk_usage_days_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT fk_usage_days_model_id_models FOREIGN KEY(model_id) REFERENCES models (id) ON DELETE RESTRICT
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE user_quotas (
	user_id BIGINT NOT NULL,
	monthly_tokens BIGINT,
	monthly_cost DOUBLE,
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_user_quotas PRIMARY KEY (user_id),
	CONSTRAINT fk_user_quotas_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE experiments (
	id BIGINT NOT NULL AUTO_INCREMENT,
	user_id BIGINT NOT NULL,
	conversation_id BIGINT NOT NULL,
	name VARCHAR(300) NOT NULL DEFAULT '',
	kind VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	samples INTEGER NOT NULL,
	concurrency INTEGER NOT NULL,
	template MEDIUMTEXT,
	source_conversation_id BIGINT,
	runner VARCHAR(64),
	created_at DATETIME(6) NOT NULL,
	started_at DATETIME(6),
	finished_at DATETIME(6),
	CONSTRAINT pk_experiments PRIMARY KEY (id),
	CONSTRAINT fk_experiments_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT uq_experiments_conversation_id UNIQUE (conversation_id),
	CONSTRAINT fk_experiments_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE,
	CONSTRAINT fk_experiments_source_conversation_id_conversations FOREIGN KEY(source_conversation_id) REFERENCES conversations (id) ON DELETE SET NULL
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_experiments_user_id_id ON experiments (user_id, id);

CREATE TABLE gateway_threads (
	id BIGINT NOT NULL AUTO_INCREMENT,
	user_id BIGINT NOT NULL,
	thread VARCHAR(255) NOT NULL,
	conversation_id BIGINT NOT NULL,
	CONSTRAINT pk_gateway_threads PRIMARY KEY (id),
	CONSTRAINT uq_gateway_threads_user_id_thread UNIQUE (user_id, thread),
	CONSTRAINT fk_gateway_threads_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT fk_gateway_threads_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE share_links (
	id BIGINT NOT NULL AUTO_INCREMENT,
	conversation_id BIGINT NOT NULL,
	user_id BIGINT NOT NULL,
	token_hash VARCHAR(64) NOT NULL,
	created_at DATETIME(6) NOT NULL,
	expires_at DATETIME(6),
	revoked_at DATETIME(6),
	CONSTRAINT pk_share_links PRIMARY KEY (id),
	CONSTRAINT fk_share_links_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE,
	CONSTRAINT fk_share_links_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT uq_share_links_token_hash UNIQUE (token_hash)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_share_links_conversation_id ON share_links (conversation_id);

CREATE INDEX ix_share_links_user_id_created_at ON share_links (user_id, created_at);

CREATE TABLE turns (
	id BIGINT NOT NULL AUTO_INCREMENT,
	conversation_id BIGINT NOT NULL,
	user_id BIGINT NOT NULL,
	mode VARCHAR(16) NOT NULL,
	input_text MEDIUMTEXT NOT NULL,
	status VARCHAR(16) NOT NULL,
	api_key_id BIGINT,
	request JSON,
	replaces_turn_id BIGINT,
	created_at DATETIME(6) NOT NULL,
	finished_at DATETIME(6),
	CONSTRAINT pk_turns PRIMARY KEY (id),
	CONSTRAINT fk_turns_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE,
	CONSTRAINT fk_turns_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT fk_turns_replaces_turn_id_turns FOREIGN KEY(replaces_turn_id) REFERENCES turns (id) ON DELETE SET NULL
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_turns_api_key_id_created_at ON turns (api_key_id, created_at);

CREATE INDEX ix_turns_conversation_id_id ON turns (conversation_id, id);

CREATE INDEX ix_turns_replaces_turn_id ON turns (replaces_turn_id);

CREATE INDEX ix_turns_user_id_created_at ON turns (user_id, created_at);

CREATE TABLE windows (
	id BIGINT NOT NULL AUTO_INCREMENT,
	conversation_id BIGINT NOT NULL,
	model_id BIGINT NOT NULL,
	name VARCHAR(200) NOT NULL DEFAULT '',
	params JSON NOT NULL,
	system_prompt MEDIUMTEXT,
	sort_order INTEGER NOT NULL DEFAULT '0',
	created_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_windows PRIMARY KEY (id),
	CONSTRAINT fk_windows_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE,
	CONSTRAINT fk_windows_model_id_models FOREIGN KEY(model_id) REFERENCES models (id) ON DELETE RESTRICT
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_windows_conversation_id_sort_order ON windows (conversation_id, sort_order);

CREATE TABLE experiment_cases (
	id BIGINT NOT NULL AUTO_INCREMENT,
	experiment_id BIGINT NOT NULL,
	position INTEGER NOT NULL,
	prompt MEDIUMTEXT NOT NULL,
	inputs JSON NOT NULL,
	CONSTRAINT pk_experiment_cases PRIMARY KEY (id),
	CONSTRAINT uq_experiment_cases_experiment_id_position UNIQUE (experiment_id, position),
	CONSTRAINT fk_experiment_cases_experiment_id_experiments FOREIGN KEY(experiment_id) REFERENCES experiments (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE messages (
	id BIGINT NOT NULL AUTO_INCREMENT,
	conversation_id BIGINT NOT NULL,
	window_id BIGINT NOT NULL,
	turn_id BIGINT,
	`role` VARCHAR(16) NOT NULL,
	content MEDIUMTEXT NOT NULL,
	created_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_messages PRIMARY KEY (id),
	CONSTRAINT fk_messages_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE,
	CONSTRAINT fk_messages_window_id_windows FOREIGN KEY(window_id) REFERENCES windows (id) ON DELETE CASCADE,
	CONSTRAINT fk_messages_turn_id_turns FOREIGN KEY(turn_id) REFERENCES turns (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_messages_turn_id_window_id ON messages (turn_id, window_id);

CREATE INDEX ix_messages_window_id_id ON messages (window_id, id);

CREATE TABLE turn_results (
	id BIGINT NOT NULL AUTO_INCREMENT,
	turn_id BIGINT NOT NULL,
	window_id BIGINT NOT NULL,
	model_id BIGINT NOT NULL,
	user_id BIGINT NOT NULL,
	status VARCHAR(16) NOT NULL,
	error_code VARCHAR(64),
	error_message VARCHAR(500),
	finish_reason VARCHAR(32),
	prompt_tokens INTEGER,
	completion_tokens INTEGER,
	total_tokens INTEGER,
	ttft_ms INTEGER,
	latency_ms INTEGER,
	decode_ms INTEGER,
	event_log JSON,
	source VARCHAR(16) NOT NULL DEFAULT 'board',
	runner VARCHAR(64),
	cost DOUBLE,
	experiment_id BIGINT,
	tool_calls JSON,
	created_at DATETIME(6) NOT NULL,
	started_at DATETIME(6),
	finished_at DATETIME(6),
	CONSTRAINT pk_turn_results PRIMARY KEY (id),
	CONSTRAINT uq_turn_results_turn_id_window_id UNIQUE (turn_id, window_id),
	CONSTRAINT fk_turn_results_turn_id_turns FOREIGN KEY(turn_id) REFERENCES turns (id) ON DELETE CASCADE,
	CONSTRAINT fk_turn_results_window_id_windows FOREIGN KEY(window_id) REFERENCES windows (id) ON DELETE CASCADE,
	CONSTRAINT fk_turn_results_model_id_models FOREIGN KEY(model_id) REFERENCES models (id) ON DELETE RESTRICT,
	CONSTRAINT fk_turn_results_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT fk_turn_results_experiment_id_experiments FOREIGN KEY(experiment_id) REFERENCES experiments (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_turn_results_experiment_id_id ON turn_results (experiment_id, id);

CREATE INDEX ix_turn_results_model_id_created_at ON turn_results (model_id, created_at);

CREATE INDEX ix_turn_results_stats_latency ON turn_results (status, model_id, latency_ms, created_at, user_id, ttft_ms, decode_ms, prompt_tokens, completion_tokens, total_tokens);

CREATE INDEX ix_turn_results_stats_ttft ON turn_results (status, model_id, ttft_ms, created_at, user_id);

CREATE INDEX ix_turn_results_user_id_created_at_model_id ON turn_results (user_id, created_at, model_id);

CREATE INDEX ix_turn_results_user_id_id ON turn_results (user_id, id);

CREATE TABLE experiment_turns (
	turn_id BIGINT NOT NULL,
	experiment_id BIGINT NOT NULL,
	case_id BIGINT NOT NULL,
	sample INTEGER NOT NULL,
	CONSTRAINT pk_experiment_turns PRIMARY KEY (turn_id),
	CONSTRAINT uq_experiment_turns_case_id_sample UNIQUE (case_id, sample),
	CONSTRAINT fk_experiment_turns_turn_id_turns FOREIGN KEY(turn_id) REFERENCES turns (id) ON DELETE CASCADE,
	CONSTRAINT fk_experiment_turns_experiment_id_experiments FOREIGN KEY(experiment_id) REFERENCES experiments (id) ON DELETE CASCADE,
	CONSTRAINT fk_experiment_turns_case_id_experiment_cases FOREIGN KEY(case_id) REFERENCES experiment_cases (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_experiment_turns_experiment_id_case_id ON experiment_turns (experiment_id, case_id);

CREATE TABLE scores (
	id BIGINT NOT NULL AUTO_INCREMENT,
	result_id BIGINT NOT NULL,
	user_id BIGINT NOT NULL,
	scorer VARCHAR(100) NOT NULL,
	value DOUBLE NOT NULL,
	passed BOOL,
	rationale TEXT,
	judge_result_id BIGINT,
	created_at DATETIME(6) NOT NULL,
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_scores PRIMARY KEY (id),
	CONSTRAINT uq_scores_result_id_scorer UNIQUE (result_id, scorer),
	CONSTRAINT fk_scores_result_id_turn_results FOREIGN KEY(result_id) REFERENCES turn_results (id) ON DELETE CASCADE,
	CONSTRAINT fk_scores_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT fk_scores_judge_result_id_turn_results FOREIGN KEY(judge_result_id) REFERENCES turn_results (id) ON DELETE SET NULL
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_scores_user_id_scorer ON scores (user_id, scorer);

CREATE TABLE votes (
	id BIGINT NOT NULL AUTO_INCREMENT,
	turn_id BIGINT NOT NULL,
	user_id BIGINT NOT NULL,
	outcome VARCHAR(16) NOT NULL,
	winner_result_id BIGINT,
	result_ids JSON NOT NULL,
	blind BOOL NOT NULL DEFAULT '0',
	created_at DATETIME(6) NOT NULL,
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_votes PRIMARY KEY (id),
	CONSTRAINT uq_votes_turn_id_user_id UNIQUE (turn_id, user_id),
	CONSTRAINT fk_votes_turn_id_turns FOREIGN KEY(turn_id) REFERENCES turns (id) ON DELETE CASCADE,
	CONSTRAINT fk_votes_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT fk_votes_winner_result_id_turn_results FOREIGN KEY(winner_result_id) REFERENCES turn_results (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_votes_user_id_created_at ON votes (user_id, created_at);

CREATE FULLTEXT INDEX ix_messages_content_fulltext ON messages (content);
