CREATE TABLE `jetmon_alert_contacts` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`label` varchar(128) NOT NULL,
	`active` boolean NOT NULL DEFAULT true,
	`transport` enum('email','pagerduty','slack','teams') NOT NULL,
	`destination` json NOT NULL,
	`destination_preview` varchar(8) NOT NULL,
	`site_filter` json,
	`min_severity` tinyint unsigned NOT NULL DEFAULT 4,
	`max_per_hour` int unsigned NOT NULL DEFAULT 60,
	`owner_tenant_id` varchar(128),
	`created_by` varchar(128) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_alert_contacts_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_alert_deliveries` (
	`alert_contact_id` bigint unsigned NOT NULL,
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`transition_id` bigint unsigned NOT NULL,
	`event_id` bigint unsigned NOT NULL,
	`blog_id` bigint unsigned NOT NULL,
	`event_type` varchar(64) NOT NULL,
	`payload` json NOT NULL,
	`status` enum('pending','delivering','delivered','abandoned','suppressed') NOT NULL DEFAULT 'pending',
	`attempt` int unsigned NOT NULL DEFAULT 0,
	`next_attempt_at` datetime(3),
	`lease_expires_at` datetime(3),
	`last_status_code` int,
	`last_response` varchar(2048),
	`last_attempt_at` datetime(3),
	`delivered_at` datetime(3),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_alert_deliveries_id` PRIMARY KEY(`id`),
	CONSTRAINT `uk_contact_transition` UNIQUE(`alert_contact_id`,`transition_id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_api_keys` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`key_hash` char(64) NOT NULL,
	`key_prefix` varchar(12) NOT NULL,
	`consumer_name` varchar(128) NOT NULL,
	`scope` enum('read','write','admin') NOT NULL DEFAULT 'read',
	`rate_limit_per_minute` int unsigned,
	`expires_at` datetime,
	`revoked_at` datetime,
	`last_used_at` datetime,
	`created_by` varchar(128) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_api_keys_id` PRIMARY KEY(`id`),
	CONSTRAINT `uk_key_hash` UNIQUE(`key_hash`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_audit_log` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`blog_id` bigint unsigned,
	`event_id` bigint unsigned,
	`event_type` varchar(64) NOT NULL,
	`source` varchar(255) NOT NULL,
	`detail` varchar(1024),
	`metadata` json,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_audit_log_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_check_history` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`endpoint_id` bigint unsigned NOT NULL,
	`blog_id` bigint unsigned NOT NULL,
	`checked_at` datetime(3) NOT NULL,
	`vantage` varchar(64) NOT NULL,
	`method` varchar(8) NOT NULL,
	`http_code` smallint unsigned,
	`error_code` smallint unsigned NOT NULL,
	`rtt_ms` int unsigned,
	`dns_ms` int unsigned,
	`tcp_ms` int unsigned,
	`tls_ms` int unsigned,
	`ttfb_ms` int unsigned,
	CONSTRAINT `jetmon_check_history_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_check_rollups` (
	`endpoint_id` bigint unsigned NOT NULL,
	`hour_start` datetime NOT NULL,
	`blog_id` bigint unsigned NOT NULL,
	`checks` int unsigned NOT NULL DEFAULT 0,
	`failures` int unsigned NOT NULL DEFAULT 0,
	`rtt_sum_ms` bigint unsigned NOT NULL DEFAULT 0,
	`rtt_hist` json,
	CONSTRAINT `jetmon_check_rollups_endpoint_id_hour_start_pk` PRIMARY KEY(`endpoint_id`,`hour_start`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_dispatch_cursors` (
	`consumer` varchar(64) NOT NULL,
	`last_transition_id` bigint unsigned NOT NULL DEFAULT 0,
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_dispatch_cursors_consumer` PRIMARY KEY(`consumer`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_endpoint_config` (
	`endpoint_id` bigint unsigned NOT NULL,
	`check_interval_sec` int unsigned,
	`timeout_ms` int unsigned,
	`request_method` enum('GET','HEAD'),
	`redirect_policy` enum('follow','alert','fail'),
	`max_redirects` tinyint unsigned,
	`check_keyword` varchar(500),
	`forbidden_keywords` json,
	`keyword_case_sensitive` tinyint unsigned,
	`custom_headers` json,
	`latency_threshold_ms` int unsigned,
	`tls_expiry_warn_days` smallint unsigned,
	`alert_cooldown_minutes` smallint unsigned,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_endpoint_config_endpoint_id` PRIMARY KEY(`endpoint_id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_endpoint_state` (
	`endpoint_id` bigint unsigned NOT NULL,
	`last_checked_at` datetime(3),
	`last_http_code` smallint unsigned,
	`last_error_code` smallint unsigned,
	`ssl_expires_at` datetime,
	`tls_version` varchar(16),
	`last_alert_sent_at` datetime,
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_endpoint_state_endpoint_id` PRIMARY KEY(`endpoint_id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_event_transitions` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`event_id` bigint unsigned NOT NULL,
	`blog_id` bigint unsigned NOT NULL,
	`endpoint_id` bigint unsigned,
	`severity_before` tinyint unsigned,
	`severity_after` tinyint unsigned,
	`state_before` varchar(32),
	`state_after` varchar(32),
	`reason` varchar(64) NOT NULL,
	`source` varchar(255) NOT NULL,
	`metadata` json,
	`changed_at` datetime(3) NOT NULL,
	CONSTRAINT `jetmon_event_transitions_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_events` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`blog_id` bigint unsigned NOT NULL,
	`endpoint_id` bigint unsigned,
	`check_type` varchar(64) NOT NULL,
	`discriminator` varchar(128),
	`severity` tinyint unsigned NOT NULL,
	`state` varchar(32) NOT NULL,
	`started_at` datetime(3) NOT NULL,
	`ended_at` datetime(3),
	`resolution_reason` varchar(64),
	`cause_event_id` bigint unsigned,
	`metadata` json,
	`updated_at` datetime(3) NOT NULL,
	`dedup_key` varchar(255) GENERATED ALWAYS AS (IF(ended_at IS NULL, CONCAT_WS(':', blog_id, COALESCE(endpoint_id, 0), check_type, COALESCE(discriminator, '')), NULL)) STORED,
	CONSTRAINT `jetmon_events_id` PRIMARY KEY(`id`),
	CONSTRAINT `uk_open_dedup` UNIQUE(`dedup_key`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_hosts` (
	`host_id` varchar(255) NOT NULL,
	`bucket_min` smallint unsigned,
	`bucket_max` smallint unsigned,
	`status` enum('active','draining') NOT NULL DEFAULT 'active',
	`lease_expires_at` datetime(3) NOT NULL,
	`heartbeat_at` datetime(3) NOT NULL,
	`pinned` boolean NOT NULL DEFAULT false,
	`version` varchar(64),
	`started_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_hosts_host_id` PRIMARY KEY(`host_id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_idempotency_keys` (
	`api_key_id` bigint unsigned NOT NULL,
	`idem_key` varchar(255) NOT NULL,
	`method` varchar(8) NOT NULL,
	`path` varchar(2048) NOT NULL,
	`request_hash` char(64) NOT NULL,
	`state` enum('in_flight','done') NOT NULL,
	`status_code` smallint unsigned,
	`response_headers` json,
	`response_body` mediumblob,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`expires_at` datetime(3) NOT NULL,
	CONSTRAINT `jetmon_idempotency_keys_api_key_id_idem_key_pk` PRIMARY KEY(`api_key_id`,`idem_key`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_maintenance_windows` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`blog_id` bigint unsigned NOT NULL,
	`endpoint_id` bigint unsigned,
	`starts_at` datetime(3) NOT NULL,
	`ends_at` datetime(3) NOT NULL,
	`reason` varchar(255),
	`created_by` varchar(128) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_maintenance_windows_id` PRIMARY KEY(`id`),
	CONSTRAINT `chk_maintenance_order` CHECK(starts_at < ends_at)
);
--> statement-breakpoint
CREATE TABLE `jetpack_monitor_sites` (
	`jetpack_monitor_site_id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`blog_id` bigint unsigned NOT NULL,
	`bucket_no` smallint unsigned NOT NULL DEFAULT 0,
	`monitor_url` varchar(2083) NOT NULL,
	`monitor_active` tinyint unsigned NOT NULL DEFAULT 1,
	`site_status` tinyint NOT NULL DEFAULT 1,
	`last_status_change` datetime,
	`check_interval` smallint unsigned NOT NULL DEFAULT 5,
	CONSTRAINT `jetpack_monitor_sites_jetpack_monitor_site_id` PRIMARY KEY(`jetpack_monitor_site_id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_process_health` (
	`process_id` varchar(255) NOT NULL,
	`host_id` varchar(255) NOT NULL,
	`role` enum('monitor','api','deliverer','veriflier') NOT NULL,
	`pid` int unsigned NOT NULL,
	`version` varchar(64),
	`state` enum('starting','running','draining','stopped') NOT NULL,
	`health` enum('green','amber','red') NOT NULL,
	`stats` json,
	`started_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_process_health_process_id` PRIMARY KEY(`process_id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_site_tenants` (
	`tenant_id` varchar(128) NOT NULL,
	`blog_id` bigint unsigned NOT NULL,
	`source` varchar(64) NOT NULL DEFAULT 'gateway',
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_site_tenants_tenant_id_blog_id_pk` PRIMARY KEY(`tenant_id`,`blog_id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_webhook_deliveries` (
	`webhook_id` bigint unsigned NOT NULL,
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`transition_id` bigint unsigned NOT NULL,
	`event_id` bigint unsigned NOT NULL,
	`blog_id` bigint unsigned NOT NULL,
	`event_type` varchar(64) NOT NULL,
	`payload` json NOT NULL,
	`status` enum('pending','delivering','delivered','abandoned','suppressed') NOT NULL DEFAULT 'pending',
	`attempt` int unsigned NOT NULL DEFAULT 0,
	`next_attempt_at` datetime(3),
	`lease_expires_at` datetime(3),
	`last_status_code` int,
	`last_response` varchar(2048),
	`last_attempt_at` datetime(3),
	`delivered_at` datetime(3),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_webhook_deliveries_id` PRIMARY KEY(`id`),
	CONSTRAINT `uk_webhook_transition` UNIQUE(`webhook_id`,`transition_id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_webhooks` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`url` varchar(2083) NOT NULL,
	`active` boolean NOT NULL DEFAULT true,
	`events` json,
	`site_filter` json,
	`state_filter` json,
	`secret` varbinary(512) NOT NULL,
	`secret_preview` varchar(8) NOT NULL,
	`previous_secret` varbinary(512),
	`previous_secret_expires_at` datetime(3),
	`owner_tenant_id` varchar(128),
	`created_by` varchar(128) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_webhooks_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `idx_status_next` ON `jetmon_alert_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `idx_blog_created` ON `jetmon_audit_log` (`blog_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `idx_type_created` ON `jetmon_audit_log` (`event_type`,`created_at`);--> statement-breakpoint
CREATE INDEX `idx_endpoint_checked` ON `jetmon_check_history` (`endpoint_id`,`checked_at`);--> statement-breakpoint
CREATE INDEX `idx_blog_checked` ON `jetmon_check_history` (`blog_id`,`checked_at`);--> statement-breakpoint
CREATE INDEX `idx_blog_hour` ON `jetmon_check_rollups` (`blog_id`,`hour_start`);--> statement-breakpoint
CREATE INDEX `idx_event_id` ON `jetmon_event_transitions` (`event_id`,`id`);--> statement-breakpoint
CREATE INDEX `idx_blog_changed` ON `jetmon_event_transitions` (`blog_id`,`changed_at`);--> statement-breakpoint
CREATE INDEX `idx_changed` ON `jetmon_event_transitions` (`changed_at`);--> statement-breakpoint
CREATE INDEX `idx_blog_ended` ON `jetmon_events` (`blog_id`,`ended_at`);--> statement-breakpoint
CREATE INDEX `idx_blog_started` ON `jetmon_events` (`blog_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `idx_endpoint_ended` ON `jetmon_events` (`endpoint_id`,`ended_at`);--> statement-breakpoint
CREATE INDEX `idx_type_started` ON `jetmon_events` (`check_type`,`started_at`);--> statement-breakpoint
CREATE INDEX `idx_cause` ON `jetmon_events` (`cause_event_id`);--> statement-breakpoint
CREATE INDEX `idx_expires` ON `jetmon_idempotency_keys` (`expires_at`);--> statement-breakpoint
CREATE INDEX `idx_blog_ends` ON `jetmon_maintenance_windows` (`blog_id`,`ends_at`);--> statement-breakpoint
CREATE INDEX `idx_blog_url` ON `jetpack_monitor_sites` (`blog_id`,monitor_url(191));--> statement-breakpoint
CREATE INDEX `idx_bucket_active` ON `jetpack_monitor_sites` (`bucket_no`,`monitor_active`);--> statement-breakpoint
CREATE INDEX `idx_host` ON `jetmon_process_health` (`host_id`);--> statement-breakpoint
CREATE INDEX `idx_blog` ON `jetmon_site_tenants` (`blog_id`);--> statement-breakpoint
CREATE INDEX `idx_status_next` ON `jetmon_webhook_deliveries` (`status`,`next_attempt_at`);