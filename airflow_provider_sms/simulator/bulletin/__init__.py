"""The simulated Bulletin Messenger: ``/api/3/sms/out``, the polling queues, the sent list, callbacks."""
