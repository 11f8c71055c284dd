-- A neutralized copy must not reach the banks with the production consents: disconnect every
-- connection and forget its tokens, the aggregator secrets, consents in progress and the encryption
-- key kept in the database (production secrets are useless in the copy and must not leak from it).
UPDATE online_link
   SET state = 'disconnected',
       auto_sync = false,
       provider_tokens_encrypted = NULL,
       import_psu_encrypted = NULL
 WHERE state != 'disconnected' OR provider_tokens_encrypted IS NOT NULL OR import_psu_encrypted IS NOT NULL;
UPDATE online_provider_config
   SET client_secret_encrypted = NULL,
       certificate_encrypted = NULL,
       private_key_encrypted = NULL;
DELETE FROM online_link_consent;
DELETE FROM ir_config_parameter
 WHERE key = 'account_online_synchronization.encryption_key';
UPDATE ir_cron
   SET active = false
 WHERE id IN (SELECT res_id FROM ir_model_data
               WHERE module = 'account_online_synchronization' AND model = 'ir.cron');
