-- The service catalogue, names in both languages.
SELECT service_key, name_de, name_en FROM services ORDER BY name_de;
