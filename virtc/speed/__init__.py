"""Large-table machinery: leaves that know nothing about virtusertables."""
