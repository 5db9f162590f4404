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

"""The source host's identity: its certificate's DN as QEMU sees it."""

import ctypes
import ctypes.util
import datetime
import os
import socket
import tempfile
import unittest
from unittest import mock

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography import x509
from cryptography.x509.oid import NameOID

from nova_v2v.transfer import peer


def _rdn(*pairs):
    return x509.RelativeDistinguishedName(
        [x509.NameAttribute(oid, value) for oid, value in pairs])


LAB = x509.Name([_rdn((NameOID.ORGANIZATION_NAME, 'nova-v2v lab')),
                 _rdn((NameOID.COMMON_NAME, 'labhost-a'))])
ODD = x509.Name([
    _rdn((NameOID.COUNTRY_NAME, 'GB')),
    _rdn((NameOID.ORGANIZATION_NAME, 'Ex, "Org"+<x>;\\'),
         (NameOID.ORGANIZATIONAL_UNIT_NAME, '#ops ')),
    _rdn((NameOID.COMMON_NAME, ' host=1 ')),
    _rdn((NameOID.EMAIL_ADDRESS, 'a@b.c')),
    _rdn((NameOID.DOMAIN_COMPONENT, 'ex')),
    _rdn((NameOID.USER_ID, 'u1')),
    _rdn((NameOID.SERIAL_NUMBER, '7')),
    _rdn((NameOID.STREET_ADDRESS, 'S 1')),
    _rdn((NameOID.LOCALITY_NAME, 'Lon\u00e9')),
    _rdn((NameOID.STATE_OR_PROVINCE_NAME, 'St')),
    _rdn((NameOID.POSTAL_CODE, 'E1')),
    _rdn((NameOID.SURNAME, 'S'), (NameOID.GIVEN_NAME, 'G')),
    _rdn((NameOID.TITLE, 'T'), (NameOID.INITIALS, 'I')),
    _rdn((NameOID.GENERATION_QUALIFIER, 'Jr'),
         (NameOID.DN_QUALIFIER, 'q'), (NameOID.PSEUDONYM, 'p')),
])
# What gnutls_x509_crt_get_dn() (GnuTLS 3.7, QEMU's authz input) printed
# for certificates with these subjects: the certificate's RDN order, the
# members of a multi-valued RDN in their DER (SET) order.
ODD_DN = ('C=GB,OU=\\#ops\\ +O=Ex\\, \\"Org\\"\\+\\<x\\>\\;\\\\,'
          'CN=\\ host=1\\ ,EMAIL=a@b.c,DC=ex,UID=u1,serialNumber=7,'
          'street=S 1,L=Lon\u00e9,ST=St,postalCode=E1,surName=S+givenName=G,'
          'title=T+initials=I,dnQualifier=q+pseudonym=p+'
          'generationQualifier=Jr')


def _certificate(subject):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))


def _pem_file(test, cert):
    fd, path = tempfile.mkstemp(suffix='.pem')
    test.addCleanup(os.unlink, path)
    with os.fdopen(fd, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return path


class _Datum(ctypes.Structure):
    _fields_ = [('data', ctypes.c_char_p), ('size', ctypes.c_uint)]


def gnutls_get_dn(pem):
    """gnutls_x509_crt_get_dn() of a PEM certificate, or None w/o GnuTLS."""
    name = ctypes.util.find_library('gnutls')
    if not name:
        return None
    lib = ctypes.CDLL(name)
    crt = ctypes.c_void_p()
    assert lib.gnutls_x509_crt_init(ctypes.byref(crt)) == 0
    try:
        datum = _Datum(pem, len(pem))
        assert lib.gnutls_x509_crt_import(crt, ctypes.byref(datum), 1) == 0
        buf = ctypes.create_string_buffer(4096)
        size = ctypes.c_size_t(len(buf))
        assert lib.gnutls_x509_crt_get_dn(crt, buf, ctypes.byref(size)) == 0
        return buf.value.decode('utf-8')
    finally:
        lib.gnutls_x509_crt_deinit(crt)


class GnutlsDNTest(unittest.TestCase):

    def test_lab_certificate(self):
        self.assertEqual('O=nova-v2v lab,CN=labhost-a', peer.gnutls_dn(LAB))

    def test_escaping_multi_valued_rdns_and_names(self):
        self.assertEqual(ODD_DN,
                         peer.gnutls_dn(_certificate(ODD).subject))

    def test_same_as_gnutls_itself(self):
        # Where GnuTLS is installed (QEMU's hosts), compare with it.
        for subject in (LAB, ODD):
            pem = _certificate(subject).public_bytes(
                serialization.Encoding.PEM)
            expected = gnutls_get_dn(pem)
            if expected is None:
                self.skipTest('no GnuTLS library here')
            self.assertEqual(expected, peer.gnutls_dn(
                x509.load_pem_x509_certificate(pem).subject))

    def test_unknown_attribute_is_refused(self):
        name = x509.Name([_rdn((x509.ObjectIdentifier('2.5.4.99'), 'x'))])
        self.assertRaises(peer.PeerError, peer.gnutls_dn, name)

    def test_escape_value(self):
        self.assertEqual('\\ a\\,b\\+c=d\\ ', peer.escape_value(' a,b+c=d '))
        self.assertEqual('a#b', peer.escape_value('a#b'))
        self.assertEqual('\\#b', peer.escape_value('#b'))
        self.assertRaises(peer.PeerError, peer.escape_value, 'a\0b')


class CertificateFileTest(unittest.TestCase):

    def test_reads_the_subject(self):
        path = _pem_file(self, _certificate(LAB))
        self.assertEqual('O=nova-v2v lab,CN=labhost-a',
                         peer.certificate_dn(path))

    def test_missing_or_bad_file(self):
        self.assertRaises(peer.PeerError, peer.certificate_dn,
                          '/nonexistent/client-cert.pem')
        fd, path = tempfile.mkstemp()
        os.close(fd)
        self.addCleanup(os.unlink, path)
        self.assertRaises(peer.PeerError, peer.certificate_dn, path)


class SourcePeerTest(unittest.TestCase):

    def test_round_trip(self):
        source = peer.SourcePeer(('192.0.2.1', '2001:db8::1'), 'CN=a')
        data = source.to_dict()
        self.assertEqual({'addresses': ['192.0.2.1', '2001:db8::1'],
                          'tls_dn': 'CN=a'}, data)
        self.assertEqual(source, peer.SourcePeer.from_dict(data))
        self.assertEqual({'addresses': ['192.0.2.1']},
                         peer.SourcePeer(('192.0.2.1',)).to_dict())
        self.assertIsNone(peer.SourcePeer.from_dict(None))

    def test_resolve_addresses(self):
        self.assertEqual(['192.0.2.1', '2001:db8::1'],
                         peer.resolve_addresses(['192.0.2.1', None,
                                                 '2001:db8::1',
                                                 '192.0.2.1']))

    @mock.patch.object(socket, 'getaddrinfo')
    def test_resolve_names(self, mock_gai):
        mock_gai.return_value = [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, '',
             ('fe80::1%eth0', 0, 0, 2)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, '', ('192.0.2.9', 0))]
        self.assertEqual(['fe80::1', '192.0.2.9'],
                         peer.resolve_addresses(['compute-1']))
        mock_gai.side_effect = socket.gaierror(-2, 'Name or service not '
                                                   'known')
        self.assertRaises(peer.PeerError, peer.resolve_addresses,
                          ['compute-1'])

    def test_no_address(self):
        self.assertRaises(peer.PeerError, peer.resolve_addresses,
                          [None, ''])

    def test_qemu_opt(self):
        self.assertEqual('O=lab,,CN=a', peer.qemu_opt('O=lab,CN=a'))
