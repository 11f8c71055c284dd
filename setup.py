"""Install the addons of this repository as ``odoo.addons.<name>`` packages."""
import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))
ADDONS = ["account_online_synchronization", "account_online_sync"]
DATA_EXTENSIONS = [
    "xml", "csv", "png", "svg", "html", "js", "scss",
    "po", "pot", "json", "rst", "md",
]


def read_requirements():
    with open(os.path.join(HERE, "requirements.txt")) as f:
        lines = (line.strip() for line in f)
        return [line for line in lines if line and not line.startswith(("#", "-"))]


def data_files_of(addon_dir):
    """Non-Python files of an addon, relative to the addon folder."""
    found = []
    for root, dirs, files in os.walk(addon_dir):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.rsplit(".", 1)[-1].lower() in DATA_EXTENSIONS:
                found.append(os.path.relpath(os.path.join(root, name), addon_dir))
    return found


packages = []
package_dir = {}
package_data = {}
for addon in ADDONS:
    addon_dir = os.path.join(HERE, addon)
    if not os.path.isfile(os.path.join(addon_dir, "__manifest__.py")):
        continue
    base = "odoo.addons." + addon
    packages.append(base)
    package_dir[base] = addon
    for sub in find_packages(addon_dir):
        packages.append(base + "." + sub)
        package_dir[base + "." + sub] = os.path.join(addon, *sub.split("."))
    package_data[base] = data_files_of(addon_dir)

setup(
    name="odoo-addons-online-bank-synchronization",
    version="18.0.1.0.0",
    description="Online bank synchronization addons for Odoo 18.0",
    license="LGPL-3",
    packages=packages,
    package_dir=package_dir,
    package_data=package_data,
    include_package_data=False,
    install_requires=read_requirements(),
    python_requires=">=3.10",
    zip_safe=False,
)
