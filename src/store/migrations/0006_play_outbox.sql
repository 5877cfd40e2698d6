CREATE TABLE `play_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` text NOT NULL,
	`item_id` text NOT NULL,
	`playback_id` text NOT NULL,
	`event` text NOT NULL,
	`position_ms` integer NOT NULL,
	`kept` integer DEFAULT 0 NOT NULL,
	`report` text NOT NULL,
	`created_at` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer DEFAULT 0 NOT NULL,
	`offline` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `play_outbox_source_idx` ON `play_outbox` (`source_id`,`id`);--> statement-breakpoint
CREATE INDEX `play_outbox_item_idx` ON `play_outbox` (`source_id`,`item_id`);