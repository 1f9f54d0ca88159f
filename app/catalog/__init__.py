"""The service catalog (playbooks/services.yml): what can break, who owns it, who is on call for it, which
status-page component shows it, where its runbooks are, and what it depends on."""
