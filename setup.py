from setuptools import find_namespace_packages, setup

setup(
    name="snorky",
    version="0.1.0",
    description="A real-time server for web applications, built on Twisted",
    long_description=open("README.rst", encoding="utf-8").read(),
    long_description_content_type="text/x-rst",
    license="MPL-2.0",
    python_requires=">=3.11",
    # Namespace packages too: snorky/static/ holds data only.
    packages=find_namespace_packages(include=["snorky", "snorky.*"], exclude=["*.__pycache__"])
    + ["twisted.plugins"],
    # Every file under snorky/ that MANIFEST.in puts in the sdist, such as
    # the JavaScript in static/ and templates, is installed with the code.
    include_package_data=True,
    install_requires=[
        "twisted>=23.10",
        "autobahn>=23.1",
        "klein>=23.5",
        "treq>=23.11",
        "prometheus_client>=0.17",
    ],
    extras_require={
        "test": [
            "hypothesis>=6.0",
            "django>=4.2",
            "mypy>=1.10",
            "mypy-zope>=1.0",
            # test/test_packaging.py builds the sdist and the wheel offline.
            "build>=1.0",
            "setuptools>=70.1",
            "txredisapi>=1.4.10",
            "hiredis>=2.0",
        ],
        # The Redis broker (--broker redis://...); hiredis is txredisapi's
        # C reply parser, a third less CPU per message (doc/scaling.rst).
        "cluster": ["txredisapi>=1.4.10", "hiredis>=2.0"],
        "django": ["django>=4.2"],
        "doc": ["sphinx>=7.0", "django>=4.2"],
    },
    classifiers=[
        "Framework :: Twisted",
        "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)",
        "Programming Language :: Python :: 3",
    ],
)
