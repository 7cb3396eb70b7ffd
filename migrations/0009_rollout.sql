CREATE TABLE `jetmon_rollout_comparison_results` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`job_id` bigint unsigned NOT NULL,
	`endpoint_id` bigint unsigned NOT NULL,
	`blog_id` bigint unsigned NOT NULL,
	`a_verdict` varchar(64) NOT NULL,
	`a_detail` json,
	`b_verdict` varchar(64) NOT NULL,
	`b_detail` json,
	`disagree` boolean NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_rollout_comparison_results_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_rollout_jobs` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`session_id` bigint unsigned,
	`step` varchar(32) NOT NULL,
	`dry_run` boolean NOT NULL,
	`parameters` json NOT NULL,
	`plan` json,
	`outcome` enum('planned','blocked','applied','refused','failed') NOT NULL,
	`error_code` varchar(64),
	`result` json,
	`actor` varchar(128) NOT NULL,
	`started_at` datetime(3) NOT NULL,
	`finished_at` datetime(3),
	CONSTRAINT `jetmon_rollout_jobs_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_rollout_locks` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`bucket_min` smallint unsigned NOT NULL,
	`bucket_max` smallint unsigned NOT NULL,
	`host_id` varchar(255) NOT NULL,
	`state` enum('active','releasing','released') NOT NULL DEFAULT 'active',
	`session_id` bigint unsigned,
	`job_id` bigint unsigned,
	`activated_at` datetime(3) NOT NULL,
	`acknowledged_at` datetime(3),
	`release_requested_at` datetime(3),
	`released_at` datetime(3),
	`created_by` varchar(128) NOT NULL,
	CONSTRAINT `jetmon_rollout_locks_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_rollout_policy_stage_rows` (
	`stage_id` bigint unsigned NOT NULL,
	`endpoint_id` bigint unsigned NOT NULL,
	`previous_method` enum('GET','HEAD'),
	`previous_profile` enum('legacy','simple_http','full'),
	`applied_method` enum('GET','HEAD') NOT NULL,
	`applied_profile` enum('legacy','simple_http','full') NOT NULL,
	`restored_at` datetime(3),
	CONSTRAINT `jetmon_rollout_policy_stage_rows_stage_id_endpoint_id_pk` PRIMARY KEY(`stage_id`,`endpoint_id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_rollout_policy_stages` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`session_id` bigint unsigned,
	`job_id` bigint unsigned NOT NULL,
	`bucket_min` smallint unsigned NOT NULL,
	`bucket_max` smallint unsigned NOT NULL,
	`from_method` enum('GET','HEAD'),
	`from_profile` enum('legacy','simple_http','full'),
	`to_method` enum('GET','HEAD') NOT NULL,
	`to_profile` enum('legacy','simple_http','full') NOT NULL,
	`size` int unsigned NOT NULL,
	`state` enum('applied','rolled_back') NOT NULL DEFAULT 'applied',
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`rolled_back_at` datetime(3),
	CONSTRAINT `jetmon_rollout_policy_stages_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_rollout_sessions` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`name` varchar(128) NOT NULL,
	`bucket_min` smallint unsigned NOT NULL,
	`bucket_max` smallint unsigned NOT NULL,
	`state` enum('active','paused','closed') NOT NULL DEFAULT 'active',
	`created_by` varchar(128) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_rollout_sessions_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_rollout_tokens` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`token_hash` char(64) NOT NULL,
	`job_id` bigint unsigned NOT NULL,
	`actor` varchar(128) NOT NULL,
	`step` varchar(32) NOT NULL,
	`parameters_hash` char(64) NOT NULL,
	`plan_hash` char(64) NOT NULL,
	`blocked` boolean NOT NULL DEFAULT false,
	`expires_at` datetime(3) NOT NULL,
	`used_at` datetime(3),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_rollout_tokens_id` PRIMARY KEY(`id`),
	CONSTRAINT `uk_token_hash` UNIQUE(`token_hash`)
);
--> statement-breakpoint
ALTER TABLE `jetmon_hosts` ADD `rollout_mode` enum('active','standby','api-controlled') DEFAULT 'active' NOT NULL;--> statement-breakpoint
CREATE INDEX `idx_job` ON `jetmon_rollout_comparison_results` (`job_id`,`disagree`,`id`);--> statement-breakpoint
CREATE INDEX `idx_session` ON `jetmon_rollout_jobs` (`session_id`,`id`);--> statement-breakpoint
CREATE INDEX `idx_step` ON `jetmon_rollout_jobs` (`step`,`id`);--> statement-breakpoint
CREATE INDEX `idx_host_state` ON `jetmon_rollout_locks` (`host_id`,`state`);--> statement-breakpoint
CREATE INDEX `idx_state` ON `jetmon_rollout_locks` (`state`,`bucket_min`);--> statement-breakpoint
CREATE INDEX `idx_range` ON `jetmon_rollout_policy_stages` (`bucket_min`,`bucket_max`,`id`);--> statement-breakpoint
CREATE INDEX `idx_session` ON `jetmon_rollout_policy_stages` (`session_id`);--> statement-breakpoint
CREATE INDEX `idx_range` ON `jetmon_rollout_sessions` (`bucket_min`,`bucket_max`);--> statement-breakpoint
CREATE INDEX `idx_expires` ON `jetmon_rollout_tokens` (`expires_at`);