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

"""What a translation did: findings, disk mappings, files to carry.

Pure.  Every change, removal and refusal of
:mod:`nova_v2v.hardware.translate` is a :class:`Finding`; nothing leaves a
definition without one.
"""

import dataclasses
import typing as ty

# Finding actions.
CHANGED = 'changed'
ADDED = 'added'
REMOVED = 'removed'
DROPPED = 'dropped'          # unmappable, removed by the 'drop' policy
UNMAPPABLE = 'unmappable'    # unmappable, refused by the 'refuse' policy
NOTE = 'note'

INFO = 'info'
WARNING = 'warning'
ERROR = 'error'


@dataclasses.dataclass(frozen=True)
class Finding:
    action: str
    device: str
    old: ty.Optional[str] = None
    new: ty.Optional[str] = None
    reason: str = ''
    severity: str = INFO

    def __str__(self):
        what = self.device
        if self.old is not None or self.new is not None:
            what += ': %s -> %s' % (self.old or '(none)', self.new or '(none)')
        text = '%-10s %s' % (self.action, what)
        if self.reason:
            text += ' (%s)' % self.reason
        return text


@dataclasses.dataclass(frozen=True)
class DiskMapping:
    """One disk of the source and what it becomes on the destination."""

    device: str                      # disk, cdrom, floppy
    source_target: str               # e.g. sda
    source_bus: str
    source_path: ty.Optional[str]
    source_format: str
    target: str                      # e.g. vda
    bus: str
    path: ty.Optional[str]
    format: str
    # Bytes, when known (a conversion keeps it).
    virtual_size: ty.Optional[int] = None

    @property
    def needs_conversion(self):
        return (self.path is not None and self.source_path is not None and
                self.format != self.source_format)


@dataclasses.dataclass(frozen=True)
class ExtraFile:
    """A file besides the disks to carry to the destination (NVRAM)."""

    kind: str
    source_path: str
    path: str


@dataclasses.dataclass
class Report:
    source_profile: str = ''
    source_type: str = ''
    target_type: str = ''
    source_machine: str = ''
    machine: str = ''
    firmware: str = 'bios'
    findings: ty.List[Finding] = dataclasses.field(default_factory=list)
    disks: ty.List[DiskMapping] = dataclasses.field(default_factory=list)
    extra_files: ty.List[ExtraFile] = dataclasses.field(default_factory=list)
    macs: ty.List[str] = dataclasses.field(default_factory=list)

    def add(self, action, device, old=None, new=None, reason='',
            severity=INFO):
        self.findings.append(Finding(action, device, old, new, reason,
                                     severity))

    @property
    def warnings(self):
        return [f for f in self.findings if f.severity != INFO]

    @property
    def unmappable(self):
        return [f for f in self.findings
                if f.action in (UNMAPPABLE, DROPPED)]

    def to_dict(self):
        data = dataclasses.asdict(self)
        data['disks'] = [dict(dataclasses.asdict(d),
                              needs_conversion=d.needs_conversion)
                         for d in self.disks]
        return data

    def to_text(self):
        lines = ['source: %s (domain type %s, machine %s, %s)'
                 % (self.source_profile, self.source_type,
                    self.source_machine or '(none)', self.firmware),
                 'target: %s, machine %s' % (self.target_type, self.machine)]
        for finding in self.findings:
            prefix = {INFO: '  ', WARNING: '! ', ERROR: '!!'}[
                finding.severity]
            lines.append('%s %s' % (prefix, finding))
        if self.disks:
            lines.append('disks:')
        for d in self.disks:
            lines.append('  %s %s %s (%s) -> %s %s %s (%s)%s' % (
                d.device, d.source_target, d.source_path or '(empty)',
                d.source_format, d.target, d.bus, d.path or '(empty)',
                d.format, ', convert' if d.needs_conversion else ''))
        for f in self.extra_files:
            lines.append('  %s %s -> %s' % (f.kind, f.source_path, f.path))
        return '\n'.join(lines)
