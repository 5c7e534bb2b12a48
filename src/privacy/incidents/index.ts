/** Incidents (R-PRIV-8). */
