"""Personal data under the Law on Personal Data Protection (Law 91/2025/QH15, in force from 1/1/2026):
sensitive facts kept apart, retention, people's rights as cases with deadlines, reads on record, the
processing register and impact assessment, and breaches."""
