# Copyright 2026 The nova-v2v Authors
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""libvirt native TLS in the lab: certificates, settings, the transport.

``nova-v2v-lab up --tls`` makes a lab CA and, per lab host, a server and a
client certificate (``openssl``), and lays them out in the host's private
``/etc/libvirt`` (``/etc/libvirt/pki``, the bind mount gives each host its
own):

==========================================  ===============================
file (inside the host's view)               used by
==========================================  ===============================
``/etc/libvirt/pki/cacert.pem``             libvirtd ``ca_file``; the p2p
                                            client (``pkipath``)
``/etc/libvirt/pki/servercert.pem``,        libvirtd ``cert_file`` /
``serverkey.pem``                           ``key_file`` (port 16514)
``/etc/libvirt/pki/clientcert.pem``,        the source libvirtd dialling
``clientkey.pem``                           ``qemu+tls://<dest>/system
                                            ?pkipath=/etc/libvirt/pki``
``/etc/libvirt/pki/qemu/*.pem``             QEMU: ``migrate_tls_x509_cert
                                            _dir`` (ca-cert, server-cert,
                                            server-key, client-cert,
                                            client-key), verify on
==========================================  ===============================

``pkipath`` is libvirt's URI parameter naming the directory that holds
``cacert.pem``, ``clientcert.pem`` and ``clientkey.pem``; with it the lab
needs no ``/etc/pki`` (Nova's hosts use the client defaults there).

Which transport a migration uses is decided exactly as in Nova's libvirt
driver, from the same two ``[libvirt]`` options (``Transport``):

* ``live_migration_with_native_tls = True`` -> ``VIR_MIGRATE_TLS``: QEMU
  encrypts the migration stream and, for block migration, the NBD disk
  stream (``nova.virt.libvirt.driver._handle_native_tls``);
* ``live_migration_scheme = tls`` -> ``qemu+tls://<dest>/system``: the
  source libvirtd's peer-to-peer connection to the destination daemon
  (``_live_migration_uri``; unset means ``tcp``).

``tls=True`` (``nova-v2v-lab migrate --tls``) is short for both.  The
destination is named by its hostname in a TLS URI, as Nova does (the
server certificate is checked against it); the plain TCP URI keeps the
address the lab always used.
"""

import collections
import os
import secrets
import shutil
import tempfile
import threading

from oslo_concurrency import processutils
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

OPENSSL = 'openssl'
TLS_PORT = 16514
# Inside each host's view; <host dir>/etc is mounted at /etc/libvirt.
PKI_DIR = '/etc/libvirt/pki'
QEMU_PKI_DIR = PKI_DIR + '/qemu'
CA_CERT = 'cacert.pem'
SERVER_CERT = 'servercert.pem'
SERVER_KEY = 'serverkey.pem'
CLIENT_CERT = 'clientcert.pem'
CLIENT_KEY = 'clientkey.pem'
# libvirt's file names (pkipath layout) -> QEMU's names in its cert dir.
QEMU_NAMES = {CA_CERT: 'ca-cert.pem', SERVER_CERT: 'server-cert.pem',
              SERVER_KEY: 'server-key.pem', CLIENT_CERT: 'client-cert.pem',
              CLIENT_KEY: 'client-key.pem'}
KEYS = (SERVER_KEY, CLIENT_KEY)
ORGANIZATION = 'nova-v2v lab'
CA_CN = 'nova-v2v lab CA'
KEY_BITS = 2048
DAYS = 30
# The peers libvirtd accepts over TLS: client certificates of lab hosts
# (the DN as libvirt prints it: gnutls_x509_crt_get_dn, issuer order,
# as virt-pki-query-dn shows it; an fnmatch pattern).
ALLOWED_DN = 'O=%s,CN=labhost-*' % ORGANIZATION

# Nova's [libvirt] options that decide the migration transport.
OPT_NATIVE_TLS = 'live_migration_with_native_tls'
OPT_SCHEME = 'live_migration_scheme'
NOVA_TLS_OPTIONS = {OPT_NATIVE_TLS: True, OPT_SCHEME: 'tls'}


class TLSError(Exception):
    pass


class Transport(collections.namedtuple('Transport',
                                       ['native_tls', 'scheme'])):
    """How a live migration travels, as Nova's two options decide it.

    native_tls: ``[libvirt] live_migration_with_native_tls``
    scheme: ``[libvirt] live_migration_scheme`` (None means ``tcp``)
    """

    @classmethod
    def from_options(cls, options=None, tls=False):
        """From a dict of Nova [libvirt] option values; tls=True sets both.

        Unknown keys are refused, so a misspelt option is not silently
        ignored.
        """
        values = {OPT_NATIVE_TLS: False, OPT_SCHEME: None}
        if tls:
            values.update(NOVA_TLS_OPTIONS)
        unknown = set(options or {}) - set(values)
        if unknown:
            raise TLSError('unknown [libvirt] option(s): %s; known: %s' % (
                ', '.join(sorted(unknown)), ', '.join(sorted(values))))
        values.update(options or {})
        return cls(bool(values[OPT_NATIVE_TLS]), values[OPT_SCHEME] or 'tcp')

    @classmethod
    def from_conf(cls, conf):
        """From an oslo.config object with Nova's [libvirt] options."""
        return cls(bool(conf.libvirt.live_migration_with_native_tls),
                   conf.libvirt.live_migration_scheme or 'tcp')

    @classmethod
    def from_config_files(cls, paths):
        """From the [libvirt] section of nova.conf file(s).

        Read with Nova's own option definitions (types and defaults).
        """
        from nova.conf import libvirt as nova_libvirt
        from oslo_config import cfg
        conf = cfg.ConfigOpts()
        nova_libvirt.register_opts(conf)
        conf([], project='nova', default_config_files=list(paths))
        return cls.from_conf(conf)

    @property
    def needs_certificates(self):
        return self.native_tls or self.scheme == 'tls'

    def options(self):
        """The Nova [libvirt] settings this transport corresponds to."""
        return {OPT_NATIVE_TLS: self.native_tls, OPT_SCHEME: self.scheme}


def uri(host_ip, hostname, scheme='tcp', pkipath=PKI_DIR):
    """The p2p destination URI, as Nova's ``_live_migration_uri`` builds it.

    TLS names the destination by hostname (checked against the server
    certificate) and points libvirt at the lab's client credentials.
    """
    if scheme == 'tls':
        base = 'qemu+tls://%s/system' % hostname
        return '%s?pkipath=%s' % (base, pkipath) if pkipath else base
    return 'qemu+%s://%s/system' % (scheme, host_ip)


def libvirtd_settings(enabled):
    """libvirtd.conf lines for the TLS listener (on the host's address)."""
    if not enabled:
        return ['listen_tls = 0']
    return [
        'listen_tls = 1',
        'tls_port = "%d"' % TLS_PORT,
        'auth_tls = "none"',
        'ca_file = "%s/%s"' % (PKI_DIR, CA_CERT),
        'cert_file = "%s/%s"' % (PKI_DIR, SERVER_CERT),
        'key_file = "%s/%s"' % (PKI_DIR, SERVER_KEY),
        'tls_no_verify_certificate = 0',
        'tls_allowed_dn_list = ["%s"]' % ALLOWED_DN,
    ]


def qemu_settings(enabled):
    """qemu.conf lines: QEMU's migration (and NBD) TLS, peers verified."""
    if not enabled:
        return []
    return [
        'default_tls_x509_cert_dir = "%s"' % QEMU_PKI_DIR,
        'default_tls_x509_verify = 1',
        'migrate_tls_x509_cert_dir = "%s"' % QEMU_PKI_DIR,
        'migrate_tls_x509_verify = 1',
    ]


def _extensions(kind, hostname=None, ip=None):
    """openssl extension section text for a CA, server or client cert."""
    if kind == 'ca':
        lines = ['basicConstraints = critical, CA:TRUE',
                 'keyUsage = critical, keyCertSign, cRLSign',
                 'subjectKeyIdentifier = hash']
    elif kind in ('server', 'client'):
        lines = ['basicConstraints = critical, CA:FALSE',
                 'keyUsage = critical, digitalSignature, keyEncipherment',
                 'extendedKeyUsage = %sAuth' % kind,
                 'subjectKeyIdentifier = hash',
                 'authorityKeyIdentifier = keyid',
                 'subjectAltName = DNS:%s, IP:%s' % (hostname, ip)]
    else:
        raise ValueError('unknown certificate kind %r' % kind)
    return '\n'.join(['[ext]'] + lines) + '\n'


def subject(cn):
    return '/O=%s/CN=%s' % (ORGANIZATION, cn)


_REQ_CONFIG = '\n'.join([
    '[req]', 'distinguished_name = dn', 'prompt = no', '[dn]',
    'CN = unused', ''])


def _private_file(path):
    """Create path empty with mode 0600 before anything is written to it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _write(path, text):
    with open(path, 'w') as f:
        f.write(text)


def _new_key(path):
    _private_file(path)
    processutils.execute(OPENSSL, 'genpkey', '-algorithm', 'RSA',
                         '-pkeyopt', 'rsa_keygen_bits:%d' % KEY_BITS,
                         '-out', path)
    os.chmod(path, 0o600)


def make_ca(ca_dir, cn=CA_CN):
    """A self-signed CA in ca_dir (cacert.pem, cakey.pem); returns ca_dir."""
    os.makedirs(ca_dir, mode=0o700, exist_ok=True)
    os.chmod(ca_dir, 0o700)
    key = os.path.join(ca_dir, 'cakey.pem')
    cert = os.path.join(ca_dir, CA_CERT)
    conf = os.path.join(ca_dir, 'req.cnf')
    _write(conf, _REQ_CONFIG + _extensions('ca'))
    _new_key(key)
    processutils.execute(OPENSSL, 'req', '-x509', '-new', '-config', conf,
                         '-extensions', 'ext', '-key', key, '-subj',
                         subject(cn), '-days', str(DAYS), '-sha256',
                         '-set_serial', str(secrets.randbits(63)),
                         '-out', cert)
    return ca_dir


def issue(ca_dir, kind, hostname, ip, cert_path, key_path):
    """A server or client certificate for hostname/ip signed by the CA."""
    work = tempfile.mkdtemp(prefix='csr-', dir=ca_dir)
    try:
        conf = os.path.join(work, 'req.cnf')
        csr = os.path.join(work, 'req.csr')
        ext = os.path.join(work, 'ext.cnf')
        _write(conf, _REQ_CONFIG)
        _write(ext, _extensions(kind, hostname, ip))
        _new_key(key_path)
        processutils.execute(OPENSSL, 'req', '-new', '-config', conf,
                             '-key', key_path, '-subj', subject(hostname),
                             '-out', csr)
        processutils.execute(OPENSSL, 'x509', '-req', '-in', csr,
                             '-CA', os.path.join(ca_dir, CA_CERT),
                             '-CAkey', os.path.join(ca_dir, 'cakey.pem'),
                             '-set_serial', str(secrets.randbits(63)),
                             '-days', str(DAYS), '-sha256',
                             '-extfile', ext, '-extensions', 'ext',
                             '-out', cert_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def host_pki_dir(lab, host):
    """Root-filesystem path of host's /etc/libvirt/pki."""
    return lab.root_path(host, PKI_DIR)


def install_host(ca_dir, pki_dir, hostname, ip):
    """Issue host's server and client certs into pki_dir (and qemu/)."""
    qemu_dir = os.path.join(pki_dir, 'qemu')
    for path in (pki_dir, qemu_dir):
        os.makedirs(path, mode=0o755, exist_ok=True)
    shutil.copyfile(os.path.join(ca_dir, CA_CERT),
                    os.path.join(pki_dir, CA_CERT))
    for kind, cert, key in (('server', SERVER_CERT, SERVER_KEY),
                            ('client', CLIENT_CERT, CLIENT_KEY)):
        issue(ca_dir, kind, hostname, ip, os.path.join(pki_dir, cert),
              os.path.join(pki_dir, key))
    for name, qemu_name in QEMU_NAMES.items():
        target = os.path.join(qemu_dir, qemu_name)
        if name in KEYS:
            _private_file(target)
        shutil.copyfile(os.path.join(pki_dir, name), target)
    verify(pki_dir)


def verify(pki_dir):
    """openssl verify of the host's certs against its CA; key modes."""
    ca = os.path.join(pki_dir, CA_CERT)
    for cert in (SERVER_CERT, CLIENT_CERT):
        processutils.execute(OPENSSL, 'verify', '-CAfile', ca,
                             os.path.join(pki_dir, cert))
    for key in KEYS:
        for path in (os.path.join(pki_dir, key),
                     os.path.join(pki_dir, 'qemu', QEMU_NAMES[key])):
            mode = os.stat(path).st_mode & 0o777
            if mode != 0o600:
                raise TLSError('%s has mode %o, not 600' % (path, mode))


def ca_dir(lab, name='ca'):
    return os.path.join(lab.state_dir, 'tls', name)


def setup(lab, hosts):
    """A fresh lab CA and every host's certificates; returns the CA dir.

    :param hosts: {host: {'hostname': ..., 'ip': ...}} (hosts.HOSTS)
    """
    shutil.rmtree(os.path.join(lab.state_dir, 'tls'), ignore_errors=True)
    ca = make_ca(ca_dir(lab))
    for host, info in sorted(hosts.items()):
        install_host(ca, host_pki_dir(lab, host), info['hostname'],
                     info['ip'])
    LOG.info('Lab TLS: CA %(ca)s, certificates for %(hosts)s',
             {'ca': ca, 'hosts': ', '.join(sorted(hosts))})
    return ca


def reissue(lab, host, ca, hosts):
    """Give host a CA certificate and certificates all from ``ca``.

    Used from the host's next migration on by its p2p client
    (``pkipath``) and its QEMU, which read them when a migration starts.
    Issued by another CA than the lab's, the host is consistent in itself
    but distrusts its peers and they distrust it: the TLS handshakes with
    them fail.  Issued by the lab CA again, it is trusted again.  The
    host's libvirtd listener keeps what it loaded at start (``virt-admin
    server-update-tls`` only reloads libvirt's default /etc/pki paths, not
    ``ca_file``).

    :param hosts: hosts.HOSTS
    """
    info = hosts[host]
    install_host(ca, host_pki_dir(lab, host), info['hostname'], info['ip'])


# -- the running daemons ----------------------------------------------------
def admin_uri(lab, host):
    """virt-admin URI of host's libvirtd, over its admin unix socket."""
    return 'libvirtd:///system?socket=%s' % os.path.join(
        lab.host_dir(host), 'run', 'libvirt-admin-sock')


def _virt_admin(lab, host, *args):
    out, _err = processutils.execute('virt-admin', '-c',
                                     admin_uri(lab, host), *args)
    return out


def parse_client_list(text):
    """Client ids and transports from ``virt-admin client-list``."""
    clients = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit():
            clients.append({'id': int(parts[0]), 'transport': parts[1]})
    return clients


def parse_client_info(text):
    """``key : value`` lines of ``virt-admin client-info`` as a dict."""
    info = {}
    for line in text.splitlines():
        key, sep, value = line.partition(':')
        if sep and key.strip():
            info[key.strip()] = value.strip()
    return info


def tls_clients(lab, host):
    """The TLS clients connected to host's libvirtd, with their identity."""
    clients = []
    for client in parse_client_list(_virt_admin(lab, host, 'client-list',
                                                'libvirtd')):
        if client['transport'] != 'tls':
            continue
        try:
            info = parse_client_info(_virt_admin(
                lab, host, 'client-info', 'libvirtd', str(client['id'])))
        except processutils.ProcessExecutionError:
            continue  # gone in between
        clients.append(info)
    return clients


def parse_ss(text, port=TLS_PORT):
    """(local, peer) of established connections to port in ``ss -Htn``."""
    found = []
    for line in text.splitlines():
        parts = line.split()
        # State Recv-Q Send-Q Local:Port Peer:Port (-H: no header line)
        if (len(parts) >= 5 and parts[0] == 'ESTAB' and
                parts[3].endswith(':%d' % port)):
            found.append((parts[3], parts[4]))
    return found


def established(lab, host, port=TLS_PORT):
    """Connections to host's port, read with ``ss`` INSIDE host's netns."""
    out, _err = processutils.execute('ip', 'netns', 'exec', lab.netns(host),
                                     'ss', '-Htn')
    return ['%s <- %s' % pair for pair in parse_ss(out, port)]


def migrate_parameters(dom):
    """QEMU's query-migrate-parameters on the source (needs libvirt_qemu)."""
    import json

    import libvirt_qemu
    reply = libvirt_qemu.qemuMonitorCommand(
        dom, '{"execute": "query-migrate-parameters"}', 0)
    return json.loads(reply).get('return', {})


class Evidence(object):
    """What shows a running migration uses TLS; sampled while it runs.

    * ``qemu``: the source QEMU's migration parameters ``tls-creds`` and
      ``tls-hostname`` (set by libvirt for ``VIR_MIGRATE_TLS``);
    * ``connections``: established connections to the destination's port
      16514, from ``ss`` run inside the destination's netns;
    * ``clients``: the destination libvirtd's TLS clients (``virt-admin
      client-info`` over its admin socket): transport and the x509 DN of
      the client certificate the source presented.
    """

    # Seconds between two samples of the watch.
    INTERVAL = 0.1

    def __init__(self, lab, dest, transport):
        self.lab = lab
        self.dest = dest
        self.transport = transport
        self.found = {}
        self.errors = []
        self.samples = 0
        self._thread = None
        self._stop = threading.Event()

    def watch(self, dom, interval=INTERVAL):
        """Sample in a thread of its own until complete or :meth:`stop`.

        Not from the migration's ``jobStats()`` polls: those wait for the
        source QEMU's monitor, which a migration setting up its NBD and
        TLS connections can hold for seconds (CI saw one poll answer in a
        3.3 s migration, after the source was gone).
        """
        def _loop():
            while not self._stop.is_set() and not self.complete():
                self.sample(dom)
                self._stop.wait(interval)

        self._thread = threading.Thread(target=_loop, name='tls-evidence',
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout=30):
        """End the watch; its findings are complete when this returns."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                LOG.warning('The TLS evidence watch did not end within '
                            '%(t)d s', {'t': timeout})
            self._thread = None

    def complete(self):
        want = {'connections', 'clients'} if (
            self.transport.scheme == 'tls') else set()
        if self.transport.native_tls:
            want.add('qemu')
        return want <= set(self.found)

    def sample(self, dom):
        if self.complete():
            return
        self.samples += 1
        probes = []
        if self.transport.native_tls:
            probes.append(('qemu', lambda: _tls_params(
                migrate_parameters(dom))))
        if self.transport.scheme == 'tls':
            probes += [('connections', lambda: established(self.lab,
                                                           self.dest)),
                       ('clients', lambda: tls_clients(self.lab,
                                                       self.dest))]
        for key, probe in probes:
            if key in self.found:
                continue
            try:
                value = probe()
            except Exception as exc:  # evidence must not break migration
                self.errors.append('%s: %s' % (key, exc))
                continue
            if value:
                self.found[key] = value

    def as_dict(self):
        result = dict(self.found)
        result['samples'] = self.samples
        if self.errors:
            result['errors'] = self.errors[-5:]
        return result


def _tls_params(params):
    creds = params.get('tls-creds')
    if not creds:
        return None
    return {'tls-creds': creds, 'tls-hostname': params.get('tls-hostname')}


def remove(lab, hosts):
    """Delete the lab CA and the hosts' keys and certificates (down)."""
    shutil.rmtree(os.path.join(lab.state_dir, 'tls'), ignore_errors=True)
    for host in hosts:
        shutil.rmtree(host_pki_dir(lab, host), ignore_errors=True)
