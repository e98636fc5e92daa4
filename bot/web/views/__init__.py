"""One module per page: login, caseload, participant, alerts."""
