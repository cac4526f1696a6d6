//! Integration tests: the real application over real HTTP against a real
//! PostgreSQL (one cluster per run, one cloned database per test).

mod admin;
mod articles;
mod changes;
mod cli;
mod cluster;
mod delivery;
mod demo;
mod errors;
mod feeds;
mod fixtures;
mod hardening;
mod harness;
mod media;
mod media_json;
mod partners;
mod permissions;
mod properties;
mod purge;
mod search;
mod seed;
mod spec;
mod taxonomy;
mod webhooks;
