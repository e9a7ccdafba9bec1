"""Supabase's Management API: the database backup list (the adapter behind
bot.gate.ports.BackupsAPI). The database itself is reached as Postgres, by bot/store/."""
