-- One database per service: no service reads another's tables.
CREATE DATABASE registry;
CREATE DATABASE levels;
CREATE DATABASE meetings;
CREATE DATABASE notifications;
CREATE DATABASE operations;
