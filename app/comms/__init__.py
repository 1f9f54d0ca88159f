"""Stakeholder communications: drafts of the plan's templates, approved before anything is published."""
