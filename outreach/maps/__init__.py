"""Coverage maps: SQL coverage queries and folium map builders, served with no CDN."""
