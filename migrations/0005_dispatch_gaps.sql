CREATE TABLE `jetmon_dispatch_gaps` (
	`consumer` varchar(64) NOT NULL,
	`transition_id` bigint unsigned NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_dispatch_gaps_consumer_transition_id_pk` PRIMARY KEY(`consumer`,`transition_id`)
);
