CREATE TABLE `notification_outbox` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` text NOT NULL,
	`target_id` text NOT NULL,
	`payload` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`due_at` integer NOT NULL,
	FOREIGN KEY (`target_id`) REFERENCES `notification_targets`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notification_outbox_message_target_idx` ON `notification_outbox` (`message_id`,`target_id`);--> statement-breakpoint
CREATE INDEX `notification_outbox_target_idx` ON `notification_outbox` (`target_id`,`seq`);--> statement-breakpoint
CREATE TABLE `notification_targets` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`url` text NOT NULL,
	`sources` text,
	`events` text,
	`quiet_hours` text,
	`created_at` integer NOT NULL,
	`last_success_at` integer,
	`last_error_at` integer,
	`last_error` text
);
