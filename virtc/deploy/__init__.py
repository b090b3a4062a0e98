"""What virtc knows of the real server: sendmail.cf and mailbox lists."""
