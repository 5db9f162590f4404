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

"""Who may connect to a cutover's NBD exports: the source host.

The destination's exports admit one peer, the source host, by what the
source says of itself (:class:`SourcePeer`, carried by the migration's
record):

* with QEMU's TLS, the distinguished name of the source's client
  certificate, which an ``authz-simple`` object compares with the DN of
  the certificate a client presents: QEMU takes that DN from
  ``gnutls_x509_crt_get_dn()``, whose format :func:`gnutls_dn` reproduces
  (the RDNs in the certificate's order, not RFC 4514's reversed one,
  GnuTLS's attribute names, RFC 4514 escaping);
* always, the source's addresses (:mod:`nova_v2v.transfer.nbd_listen`
  drops packets from any other).
"""

import dataclasses
import socket
import typing as ty

from cryptography import x509
from cryptography.x509 import oid as x509_oid

# GnuTLS's names of the attribute types it prints by name (lib/x509
# /common.c); any other type is printed as its dotted OID and the hex of
# its DER value, which cannot be rebuilt from the decoded value here.
GNUTLS_NAMES = {
    x509_oid.NameOID.COUNTRY_NAME: 'C',
    x509_oid.NameOID.ORGANIZATION_NAME: 'O',
    x509_oid.NameOID.ORGANIZATIONAL_UNIT_NAME: 'OU',
    x509_oid.NameOID.COMMON_NAME: 'CN',
    x509_oid.NameOID.LOCALITY_NAME: 'L',
    x509_oid.NameOID.STATE_OR_PROVINCE_NAME: 'ST',
    x509_oid.NameOID.STREET_ADDRESS: 'street',
    x509_oid.NameOID.POSTAL_CODE: 'postalCode',
    x509_oid.NameOID.DOMAIN_COMPONENT: 'DC',
    x509_oid.NameOID.USER_ID: 'UID',
    x509_oid.NameOID.EMAIL_ADDRESS: 'EMAIL',
    x509_oid.NameOID.SERIAL_NUMBER: 'serialNumber',
    x509_oid.NameOID.SURNAME: 'surName',
    x509_oid.NameOID.GIVEN_NAME: 'givenName',
    x509_oid.NameOID.TITLE: 'title',
    x509_oid.NameOID.INITIALS: 'initials',
    x509_oid.NameOID.GENERATION_QUALIFIER: 'generationQualifier',
    x509_oid.NameOID.DN_QUALIFIER: 'dnQualifier',
    x509_oid.NameOID.PSEUDONYM: 'pseudonym',
}
# Characters RFC 4514 (and GnuTLS) escape anywhere in a value.
_SPECIAL = ',+"\\<>;'


class PeerError(ValueError):
    """The source's identity cannot be read or expressed."""


@dataclasses.dataclass(frozen=True)
class SourcePeer:
    """The source host as the destination's exports admit it.

    :param addresses: the IP addresses the source's QEMU may connect from
    :param tls_dn: the DN of its QEMU client certificate (as QEMU's authz
        sees it), when the source runs with native TLS
    """

    addresses: ty.Tuple[str, ...] = ()
    tls_dn: ty.Optional[str] = None

    def to_dict(self):
        data = {'addresses': list(self.addresses)}
        if self.tls_dn is not None:
            data['tls_dn'] = self.tls_dn
        return data

    @classmethod
    def from_dict(cls, data):
        if not data:
            return None
        return cls(addresses=tuple(data.get('addresses') or ()),
                   tls_dn=data.get('tls_dn'))


def escape_value(text):
    """An attribute value escaped as GnuTLS prints it (RFC 4514)."""
    out = []
    last = len(text) - 1
    for index, char in enumerate(text):
        if char == '\0':
            raise PeerError('a DN value with a NUL character')
        if (char in _SPECIAL or (index == 0 and char in '# ') or
                (index == last and char == ' ')):
            out.append('\\')
        out.append(char)
    return ''.join(out)


def gnutls_dn(name):
    """``name`` as ``gnutls_x509_crt_get_dn()`` prints it.

    :param name: a ``cryptography.x509.Name``
    :raises: PeerError for an attribute type GnuTLS prints as hex
    """
    rdns = []
    for rdn in name.rdns:
        members = []
        for attribute in rdn:
            label = GNUTLS_NAMES.get(attribute.oid)
            if label is None or not isinstance(attribute.value, str):
                raise PeerError(
                    'the certificate subject has an attribute %s that '
                    'QEMU compares in its DER form; use a subject of %s'
                    % (attribute.oid.dotted_string,
                       ', '.join(sorted(set(GNUTLS_NAMES.values())))))
            members.append('%s=%s' % (label, escape_value(attribute.value)))
        rdns.append('+'.join(members))
    return ','.join(rdns)


def certificate_dn(path):
    """The subject DN of the PEM certificate at ``path`` (:func:`gnutls_dn`).

    :raises: PeerError when it cannot be read
    """
    try:
        with open(path, 'rb') as f:
            cert = x509.load_pem_x509_certificate(f.read())
    except (OSError, ValueError) as exc:
        raise PeerError('cannot read the certificate %s: %s' % (path, exc))
    return gnutls_dn(cert.subject)


def resolve_addresses(names):
    """The IP addresses of ``names`` (addresses or host names), in order.

    :raises: PeerError when a name does not resolve or none is given
    """
    found = []
    for name in names:
        if not name:
            continue
        try:
            infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise PeerError('cannot resolve %s: %s' % (name, exc))
        for info in infos:
            address = info[4][0].split('%', 1)[0]
            if address not in found:
                found.append(address)
    if not found:
        raise PeerError('no address of the source host')
    return found


def qemu_opt(value):
    """``value`` for a QEMU ``key=value,...`` option: commas doubled."""
    return str(value).replace(',', ',,')
