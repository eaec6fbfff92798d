DROP TABLE dav_locks;
DROP TABLE app_passwords;
