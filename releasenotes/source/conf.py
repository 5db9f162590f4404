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

# nova-v2v Release Notes build configuration (sphinx + reno), used by
# OpenStack's release-notes job:
#   sphinx-build -a -E -W -d releasenotes/build/doctrees -b html \
#       releasenotes/source releasenotes/build/html

extensions = [
    'reno.sphinxext',
]

templates_path = ['_templates']
source_suffix = '.rst'
master_doc = 'index'

project = 'nova-v2v Release Notes'
copyright = '2026, The nova-v2v Authors'

# Release notes are versioned by reno from git tags, not here.
version = ''
release = ''

exclude_patterns = []
pygments_style = 'sphinx'

html_theme = 'default'
html_static_path = ['_static']
htmlhelp_basename = 'NovaV2VReleaseNotesdoc'

locale_dirs = ['locale/']
