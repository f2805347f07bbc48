# Items 55, 56: log() writes 'log: msg' to stderr (sent to stdout here so it is traced);
# log_info() prints 'type: msg' unless the type is ignored (by default 'warning').
from difftrace import *

sys.stderr = sys.stdout
d = asyncore.dispatcher(map={})
d.log('plain')
d.log(42)
d.log_info('EGGS here', 'EGGS')
d.log_info('default type')
d.log_info('dropped', 'warning')
d.log_info('error type', 'error')
d.ignore_log_types = frozenset()
d.log_info('now shown', 'warning')
d.ignore_log_types = frozenset({'info', 'SPAM'})
d.log_info('hidden')
d.log_info('hidden too', 'SPAM')
d.log_info('shown', 'EGGS')
