"""Playbooks: rollback and recovery runs against Render, proved before they are called done."""
