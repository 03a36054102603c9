"""Campaigns, assignments of households to team members, walk lists."""
