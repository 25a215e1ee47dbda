//! The integration tests: one binary, a module per area. They drive the built `supportd`
//! binary in a temporary copy of daemon.toml, templates/ and var/, against real SQLite and
//! real PostgreSQL databases (a fresh one per test).

mod agent_mail;
mod support;

mod addresses;
mod agents;
mod auth_results_trust;
mod backscatter;
mod boundaries;
mod budget;
mod channels;
mod check_config;
mod choice;
mod cli;
mod concurrency;
mod corpus;
mod crash;
mod durability;
mod embedded_default;
mod environment;
mod escalation;
mod exit_codes;
mod health_alarms;
mod held;
mod held_people;
mod hostile;
mod imap;
mod intake;
mod loops;
mod manual;
mod members;
mod migrate;
mod monthly;
mod oauth2;
mod outbound;
mod outbound_crash;
mod oversize;
mod panics;
mod parties;
mod quarantine;
mod read_only;
mod reports;
mod routes;
mod service;
mod sla;
mod start_together;
mod targets;
mod templates;
mod threading;
mod web;
mod web_bounds;
mod web_doors;
mod web_pages;
